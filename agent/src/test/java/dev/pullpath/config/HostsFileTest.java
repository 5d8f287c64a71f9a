package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostsFileTest {

    @Test
    void findsEveryAddressOfANameAndTheFirstLine(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("hosts"), """
                127.0.0.1 localhost
                # 10.9.9.9 public.ecr.aws (commented out)
                10.1.2.3   public.ecr.aws   ecr-alias  # pinned by someone
                fd00::7 PUBLIC.ECR.AWS.
                10.1.2.3 public.ecr.aws
                """);
        HostsFile.Match m = HostsFile.read(file).lookup("public.ecr.aws");
        assertEquals(List.of(InetAddress.getByName("10.1.2.3"), InetAddress.getByName("fd00::7")), m.addresses());
        assertEquals(3, m.lineNumber());
        assertNull(HostsFile.read(file).lookup("registry.test"));
    }

    @Test
    void hostileLinesCostOnlyThemselves(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("hosts"), "not-an-ip public.ecr.aws\n999.1.1.1 public.ecr.aws\n"
                + "public.ecr.aws\n\u0000\u00ff\n" + "x".repeat(10_000) + "\n192.0.2.9 public.ecr.aws\n");
        assertEquals(List.of(InetAddress.getByName("192.0.2.9")),
                HostsFile.read(file).lookup("public.ecr.aws").addresses());
    }

    @Test
    void missingFileIsEmptyNotAnError(@TempDir Path dir) {
        HostsFile h = HostsFile.read(dir.resolve("absent"));
        assertNull(h.lookup("public.ecr.aws"));
        assertNull(h.problem());
    }
}

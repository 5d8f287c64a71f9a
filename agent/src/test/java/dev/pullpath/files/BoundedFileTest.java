package dev.pullpath.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BoundedFileTest {
    @TempDir
    Path dir;

    @Test
    void aFileOfExactlyTheBoundIsRead() throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[] {1, 2, 3, 4});
        assertArrayEquals(new byte[] {1, 2, 3, 4}, BoundedFile.read(f, 4));
    }

    @Test
    void oneByteOverTheBoundIsTooLarge() throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[5]);
        BoundedFile.TooLarge e = assertThrows(BoundedFile.TooLarge.class, () -> BoundedFile.read(f, 4));
        assertEquals(4, e.max());
    }

    @Test
    void aFileWhoseSizeSaysZeroIsStillBounded() throws Exception {
        Path maps = Path.of("/proc/self/maps");
        assertEquals(0, Files.size(maps), "procfs reports no size: a size check up front would read it all");
        assertThrows(BoundedFile.TooLarge.class, () -> BoundedFile.read(maps, 64));
    }

    @Test
    void malformedTextIsAnErrorNotReplaced() throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[] {'a', (byte) 0xC3});
        assertThrows(CharacterCodingException.class, () -> BoundedFile.readString(f, 16, StandardCharsets.UTF_8));
        assertEquals("a\u00c3", BoundedFile.readString(f, 16, StandardCharsets.ISO_8859_1));
    }

    @Test
    void aMissingFileIsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> BoundedFile.read(dir.resolve("absent"), 16));
    }
}

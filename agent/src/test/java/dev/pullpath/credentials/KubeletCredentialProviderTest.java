package dev.pullpath.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kubelet's credential provider exec protocol against fake providers written as shell scripts: what they are
 * sent, what their answers turn into, and every way they fail becoming evidence (never an exception, never a
 * secret in the text).
 */
class KubeletCredentialProviderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long EXPIRATION = 1_893_456_000L; // 2030-01-01T00:00:00Z
    /** What ecr-credential-provider returns as the password: base64 of JSON carrying the expiry. */
    private static final String TOKEN = Base64.getEncoder().encodeToString(("{\"payload\":\"c2VjcmV0LXBheWxvYWQ=\","
            + "\"datakey\":\"ZGF0YWtleQ==\",\"version\":\"2\",\"type\":\"DATA_KEY\",\"expiration\":" + EXPIRATION + "}")
            .getBytes(StandardCharsets.UTF_8));
    private static final String V1 = "credentialprovider.kubelet.k8s.io/v1";
    private static final String ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    private static final String IMAGE = ECR_HOST + "/app:1";
    private static final String PROVIDER = "ecr-credential-provider";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private Path bin;
    private Path config;
    private final List<Credential> seen = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        bin = Files.createDirectory(dir.resolve("bin"));
        config = dir.resolve("config.yaml");
    }

    /** Every credential any test produced: the secret is in none of the lines a report could show. */
    @AfterEach
    void secretNeverShown() {
        for (Credential c : seen) {
            assertFalse(c.describe().contains(TOKEN), c.describe());
            assertFalse(c.toString().contains(TOKEN), c.toString());
            assertFalse(c.toString().contains("c2VjcmV0LXBheWxvYWQ"), c.toString());
            if (c.problem() != null) {
                assertFalse(c.problem().contains(TOKEN), c.problem());
                assertFalse(c.problem().contains("hunter2"), c.problem());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Success

    @Test
    void succeedingProviderGivesTheEcrTokenWithItsExpiryAndIsSentWhatTheKubeletSends() throws IOException {
        script(PROVIDER, kubeletLikeProvider("Registry", "*.dkr.ecr.*.amazonaws.com"));
        Files.writeString(config, """
                apiVersion: kubelet.config.k8s.io/v1
                kind: CredentialProviderConfig
                providers:
                  - name: ecr-credential-provider
                    matchImages:
                      - "*.dkr.ecr.*.amazonaws.com"
                      - "*.dkr.ecr.*.amazonaws.com.cn"
                    defaultCacheDuration: "12h"
                    apiVersion: credentialprovider.kubelet.k8s.io/v1
                    args:
                      - get-credentials
                      - --log-level=debug
                    env:
                      - name: PP_DIR
                        value: "%s"
                      - name: AWS_PROFILE
                        value: node
                """.formatted(dir));

        List<Credential> found = find(IMAGE);

        assertEquals(1, found.size(), found.toString());
        Credential c = found.get(0);
        assertTrue(c.usable(), c.describe());
        assertEquals("*.dkr.ecr.*.amazonaws.com", c.registry());
        assertEquals("kubelet-credential-provider/" + PROVIDER, c.source());
        assertEquals(bin.resolve(PROVIDER).toString(), c.location());
        assertEquals("AWS", c.username());
        assertEquals(TOKEN, c.secret());
        assertEquals(Instant.ofEpochSecond(EXPIRATION), c.expiresAt());

        // The request: TypeMeta then the image, which is the repository without its tag, newline-terminated.
        String raw = Files.readString(dir.resolve("req.json"));
        assertTrue(raw.endsWith("\n"), raw);
        JsonNode req = JSON.readTree(raw);
        assertEquals(List.of("kind", "apiVersion", "image"), fieldNames(req));
        assertEquals("CredentialProviderRequest", req.get("kind").asText());
        assertEquals(V1, req.get("apiVersion").asText());
        assertEquals(ECR_HOST + "/app", req.get("image").asText());
        // Arguments in order, the configured env on top of the node's own.
        assertEquals(List.of("get-credentials", "--log-level=debug"), Files.readAllLines(dir.resolve("args.txt")));
        assertEquals("profile=node path=yes", Files.readString(dir.resolve("env.txt")).strip());
    }

    @Test
    void jsonConfigInAnOlderVersionWorksTheSameAndTheProviderIsAskedInItsOwnApiVersion() throws IOException {
        script(PROVIDER, kubeletLikeProvider("Image", "123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        Path json = dir.resolve("config.json");
        Files.writeString(json, """
                {
                  "apiVersion": "kubelet.config.k8s.io/v1beta1",
                  "kind": "CredentialProviderConfig",
                  "providers": [{
                    "name": "ecr-credential-provider",
                    "matchImages": ["*.dkr.ecr.*.amazonaws.com"],
                    "defaultCacheDuration": "0",
                    "apiVersion": "credentialprovider.kubelet.k8s.io/v1alpha1",
                    "env": [{"name": "PP_DIR", "value": "%s"}]
                  }]
                }
                """.formatted(dir));

        List<Credential> found = track(new KubeletCredentialProvider(json, bin, TIMEOUT)
                .find(ECR_HOST + "/team/app@sha256:" + "a".repeat(64)));

        assertEquals(1, found.size(), found.toString());
        assertTrue(found.get(0).usable(), found.get(0).describe());
        assertEquals(ECR_HOST, found.get(0).registry());
        JsonNode req = JSON.readTree(dir.resolve("req.json").toFile());
        assertEquals("credentialprovider.kubelet.k8s.io/v1alpha1", req.get("apiVersion").asText());
        assertEquals(ECR_HOST + "/team/app", req.get("image").asText());
    }

    @Test
    void bareRegistryHostIsSentAsItIs() throws IOException {
        script(PROVIDER, kubeletLikeProvider("Registry", "public.ecr.aws"));
        writeProvider(PROVIDER, "public.ecr.aws");

        List<Credential> found = find("public.ecr.aws");

        assertEquals(1, found.size(), found.toString());
        assertTrue(found.get(0).usable());
        assertEquals("public.ecr.aws", JSON.readTree(dir.resolve("req.json").toFile()).get("image").asText());
    }

    @Test
    void matchingAuthEntriesComeMostSpecificFirstAndOthersAreLeftOut() throws IOException {
        respondWith("""
                {"apiVersion":"%s","kind":"CredentialProviderResponse","cacheKeyType":"Registry",
                 "auth":{"*.dkr.ecr.*.amazonaws.com":{"username":"AWS","password":"%s"},
                         "https://123456789012.dkr.ecr.us-east-1.amazonaws.com":{"username":"AWS","password":"%s"},
                         "other.example.com":{"username":"u","password":"p"}}}
                """.formatted(V1, TOKEN, TOKEN));

        List<Credential> found = find(IMAGE);

        assertEquals(List.of("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "*.dkr.ecr.*.amazonaws.com"),
                found.stream().map(Credential::registry).toList());
        assertTrue(found.stream().allMatch(Credential::usable));
    }

    @Test
    void dockerHubCredentialsUnderIndexDockerIoServeDockerHubImages() throws IOException {
        respondWith("""
                {"apiVersion":"%s","kind":"CredentialProviderResponse","cacheKeyType":"Global",
                 "auth":{"https://index.docker.io/v1/":{"username":"me","password":"hunter2"}}}
                """.formatted(V1), "docker.io");

        List<Credential> found = find("busybox:1.36");

        assertEquals(1, found.size(), found.toString());
        assertEquals("me", found.get(0).username());
        assertEquals("docker.io/library/busybox",
                JSON.readTree(dir.resolve("req.json").toFile()).get("image").asText());
    }

    @Test
    void everyMatchingProviderRunsInConfigOrderAndOnlyThose() throws IOException {
        script("first", kubeletLikeProvider("Registry", "*.dkr.ecr.*.amazonaws.com"));
        script("second", kubeletLikeProvider("Registry", ECR_HOST));
        script("unrelated", "touch \"$PP_DIR/unrelated-ran\"\nexit 1\n");
        Files.writeString(config, header() + providerYaml("first", "*.dkr.ecr.*.amazonaws.com")
                + providerYaml("unrelated", "*.azurecr.io") + providerYaml("second", ECR_HOST + "/app"));

        List<Credential> found = find(IMAGE);

        assertEquals(List.of("kubelet-credential-provider/first", "kubelet-credential-provider/second"),
                found.stream().map(Credential::source).toList());
        assertFalse(Files.exists(dir.resolve("unrelated-ran")));
    }

    @Test
    void imageNoProviderMatchesGetsNothingAndRunsNothing() throws IOException {
        script(PROVIDER, "touch \"$PP_DIR/ran\"\n");
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");

        assertEquals(List.of(), find("ghcr.io/org/app:1"));
        assertEquals(List.of(), find(ECR_HOST + ".cn/app:1"));
        assertFalse(Files.exists(dir.resolve("ran")));
    }

    @Test
    void missingConfigFileMeansNoProviders() {
        assertEquals(List.of(), new KubeletCredentialProvider(dir.resolve("absent.json"), bin, TIMEOUT).find(IMAGE));
        assertEquals(List.of(), new KubeletCredentialProvider(null, bin, TIMEOUT).find(IMAGE));
    }

    @Test
    void configDirectoryIsMergedInNameOrder() throws IOException {
        script("a", kubeletLikeProvider("Registry", "*.dkr.ecr.*.amazonaws.com"));
        script("b", kubeletLikeProvider("Registry", ECR_HOST));
        Path confDir = Files.createDirectory(dir.resolve("conf.d"));
        Files.writeString(confDir.resolve("20-b.yaml"), (header() + providerYaml("b", ECR_HOST))
                .replace("${PP_DIR}", dir.toString()));
        Files.writeString(confDir.resolve("10-a.json"), """
                {"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[
                  {"name":"a","matchImages":["*.dkr.ecr.*.amazonaws.com"],"defaultCacheDuration":"1h",
                   "apiVersion":"credentialprovider.kubelet.k8s.io/v1","env":[{"name":"PP_DIR","value":"%s"}]}]}
                """.formatted(dir));
        Files.writeString(confDir.resolve("notes.txt"), "not a config");

        List<Credential> found = track(new KubeletCredentialProvider(confDir, bin, TIMEOUT).find(IMAGE));

        assertEquals(List.of("kubelet-credential-provider/a", "kubelet-credential-provider/b"),
                found.stream().map(Credential::source).toList());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failing providers

    @Test
    void failingProviderReportsItsExitAndStderr() throws IOException {
        script(PROVIDER, "cat >/dev/null\necho 'AccessDeniedException: User: arn:aws:sts::1:assumed-role/node is not "
                + "authorized to perform: ecr-public:GetAuthorizationToken' >&2\nexit 1\n");
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");

        List<Credential> found = find(IMAGE);

        assertEquals(1, found.size(), found.toString());
        Credential c = found.get(0);
        assertFalse(c.usable());
        assertNull(c.secret());
        assertEquals(ECR_HOST, c.registry());
        assertEquals("kubelet-credential-provider/" + PROVIDER, c.source());
        assertEquals(bin.resolve(PROVIDER).toString(), c.location());
        assertTrue(c.problem().startsWith(PROVIDER + " exited 1: AccessDeniedException: User: "
                + "arn:aws:sts::1:assumed-role/node is not authorized"), c.problem());
        assertTrue(c.describe().contains("ecr-public:GetAuthorizationToken"), c.describe());
    }

    @Test
    void stderrIsRedactedAndBounded() throws IOException {
        script(PROVIDER, "printf '{\"password\":\"hunter2\"} Authorization: Basic aHVudGVyMjpodW50ZXIy ' >&2\n"
                + "head -c 20000 /dev/zero | tr '\\0' x >&2\nexit 3\n");
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");

        Credential c = find(IMAGE).get(0);

        String prefix = PROVIDER + " exited 3: ";
        assertTrue(c.problem().startsWith(prefix), c.problem());
        String shown = c.problem().substring(prefix.length());
        assertTrue(shown.length() <= 300, shown.length() + ": " + shown);
        assertTrue(shown.contains("<redacted>"), shown);
        assertFalse(shown.contains("aHVudGVyMjpodW50ZXIy"), shown);
    }

    /** What the provider gives for IMAGE with this timeout, asserted to come back within it (and a second). */
    private List<Credential> findWithin(Duration timeout) {
        long start = System.nanoTime();
        List<Credential> found = track(new KubeletCredentialProvider(config, bin, timeout).find(IMAGE));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs < timeout.toMillis() + 1000, "took " + tookMs + "ms");
        return found;
    }

    @Test
    void hangingProviderIsKilledWithItsChildrenWithinTheTimeout() throws Exception {
        script(PROVIDER, "echo $$ > \"$PP_DIR/parent.pid\"\nsleep 30 &\necho $! > \"$PP_DIR/child.pid\"\n"
                + "echo 'still thinking' >&2\nwait\n");
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");
        List<Credential> found = findWithin(Duration.ofSeconds(1));
        assertEquals(1, found.size(), found.toString());
        assertTrue(found.get(0).problem().contains("did not answer within 1000ms"), found.get(0).problem());
        assertTrue(found.get(0).problem().contains("still thinking"), found.get(0).problem());
        assertGone(pid("parent.pid"));
        assertGone(pid("child.pid"));
    }

    @Test
    void childKeepingTheOutputOpenAfterTheProviderExitsDoesNotHoldUsPastTheTimeout() throws Exception {
        script(PROVIDER, "sleep 30 &\necho $! > \"$PP_DIR/child.pid\"\necho '{}'\nsleep 0.3\n");
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");
        List<Credential> found = findWithin(Duration.ofSeconds(1));
        assertTrue(found.get(0).problem().contains("kept its output open"), found.get(0).problem());
        assertGone(pid("child.pid"));
    }

    static Stream<Arguments> badAnswers() {
        String ok = "\"auth\":{\"*.dkr.ecr.*.amazonaws.com\":{\"username\":\"AWS\",\"password\":\"" + TOKEN + "\"}}";
        String head = "\"apiVersion\":\"" + V1 + "\",\"kind\":\"CredentialProviderResponse\"";
        return Stream.of(
                Arguments.of("hello, not JSON", "is not JSON"),
                Arguments.of("AWS:" + TOKEN + " oops", "is not JSON"),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\"," + ok + "} trailing", "is not JSON"),
                Arguments.of("", "printed nothing"),
                Arguments.of("[1,2]", "not a CredentialProviderResponse"),
                Arguments.of("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\",\"kind\":"
                        + "\"CredentialProviderResponse\",\"cacheKeyType\":\"Registry\"," + ok + "}",
                        "answered with apiVersion \"credentialprovider.kubelet.k8s.io/v1beta1\" but was asked in "
                                + V1),
                Arguments.of("{\"apiVersion\":\"" + V1 + "\",\"kind\":\"CredentialProviderRequest\","
                        + "\"cacheKeyType\":\"Registry\"," + ok + "}", "kind \"CredentialProviderRequest\""),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Forever\"," + ok + "}", "cacheKeyType \"Forever\""),
                Arguments.of("{" + head + "," + ok + "}", "cacheKeyType \"\""),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"expires\":\"soon\"," + ok + "}",
                        "unknown field \"expires\""),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"cacheKeyType\":\"Image\"," + ok + "}",
                        "repeats a field"),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"a while\"," + ok + "}",
                        "cacheDuration that is not a duration"),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"auth\":{\"*.dkr.ecr.*.amazonaws.com\":"
                        + "{\"username\":\"AWS\",\"password\":\"" + TOKEN + "\",\"email\":\"a@b\"}}}",
                        "unknown field \"email\""),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"auth\":{\"*.dkr.ecr.*.amazonaws.com\":"
                        + "{\"username\":1,\"password\":\"" + TOKEN + "\"}}}", "non-string \"username\""),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"auth\":{}}", "no credentials"),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\"}", "no credentials"),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"auth\":{\"*.dkr.ecr.*.amazonaws.com.cn\":"
                        + "{\"username\":\"AWS\",\"password\":\"" + TOKEN + "\"}}}",
                        "credentials only for *.dkr.ecr.*.amazonaws.com.cn, none of which covers " + ECR_HOST + "/app"),
                Arguments.of("{" + head + ",\"cacheKeyType\":\"Registry\",\"pad\":\"" + "x".repeat(70_000) + "\"}",
                        "more than 64 KiB"));
    }

    @ParameterizedTest
    @MethodSource("badAnswers")
    void answersTheKubeletWouldNotUseAreEvidence(String stdout, String expected) throws IOException {
        respondWith(stdout);

        List<Credential> found = find(IMAGE);

        assertEquals(1, found.size(), found.toString());
        Credential c = found.get(0);
        assertNull(c.secret());
        assertFalse(c.usable());
        assertEquals(bin.resolve(PROVIDER).toString(), c.location());
        assertTrue(c.problem().contains(expected), c.problem());
    }

    @Test
    void providerThatCannotRunIsEvidence() throws IOException {
        Path p = bin.resolve(PROVIDER);
        Files.writeString(p, "#!/nonexistent/interpreter\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");

        Credential c = find(IMAGE).get(0);

        assertTrue(c.problem().startsWith(PROVIDER + " could not be started"), c.problem());
    }

    @Test
    void providerWithTokenAttributesIsNotRun() throws IOException {
        script(PROVIDER, "touch \"$PP_DIR/ran\"\n");
        Files.writeString(config, header() + providerYaml(PROVIDER, "*.dkr.ecr.*.amazonaws.com") + """
                    tokenAttributes:
                      serviceAccountTokenAudience: sts.amazonaws.com
                      requireServiceAccount: true
                      cacheType: ServiceAccount
                """);

        Credential c = find(IMAGE).get(0);

        assertTrue(c.problem().contains("tokenAttributes"), c.problem());
        assertFalse(Files.exists(dir.resolve("ran")));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Configurations the kubelet refuses (it exits at startup)

    @Test
    void missingBinaryIsReportedWhereTheKubeletLooksForIt() throws IOException {
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");

        List<Credential> found = find(IMAGE);

        assertEquals(1, found.size(), found.toString());
        Credential c = found.get(0);
        assertEquals("kubelet-credential-provider/" + PROVIDER, c.source());
        assertEquals(bin.resolve(PROVIDER).toString(), c.location());
        assertTrue(c.problem().contains("does not exist"), c.problem());
        assertTrue(c.problem().contains("kubelet exits at startup"), c.problem());
    }

    @Test
    void anyProviderMissingBreaksTheKubeletEvenForImagesItDoesNotMatch() throws IOException {
        script(PROVIDER, "touch \"$PP_DIR/ran\"\n");
        Path notExecutable = bin.resolve("acr-provider");
        Files.writeString(notExecutable, "#!/bin/sh\n");
        Files.writeString(config, header() + providerYaml(PROVIDER, "*.dkr.ecr.*.amazonaws.com")
                + providerYaml("gcr-provider", "gcr.io") + providerYaml("acr-provider", "*.azurecr.io"));

        List<Credential> found = find(IMAGE);

        assertEquals(List.of("kubelet-credential-provider/gcr-provider", "kubelet-credential-provider/acr-provider"),
                found.stream().map(Credential::source).toList());
        assertTrue(found.get(1).problem().contains("is not an executable file"), found.get(1).problem());
        assertFalse(Files.exists(dir.resolve("ran")));
    }

    @Test
    void missingBinDirectoryIsReported() throws IOException {
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");

        Path absent = dir.resolve("no-such-bin");
        List<Credential> found = track(new KubeletCredentialProvider(config, absent, TIMEOUT).find(IMAGE));

        assertEquals(1, found.size());
        assertEquals(absent.toString(), found.get(0).location());
        assertTrue(found.get(0).problem().contains("bin directory"), found.get(0).problem());
    }

    @ParameterizedTest
    @CsvSource({"../evil", "sub/provider", "..", "two words"})
    void providerNamesThatAreNotPlainFileNamesAreRefusedAndNeverRun(String name) throws IOException {
        Files.createDirectories(bin.resolve("sub"));
        script("sub/provider", "touch \"$PP_DIR/ran\"\n");
        Path evil = dir.resolve("evil");
        Files.writeString(evil, "#!/bin/sh\ntouch \"" + dir.resolve("ran") + "\"\n");
        Files.setPosixFilePermissions(evil, PosixFilePermissions.fromString("rwx------"));
        writeProvider(name, "*.dkr.ecr.*.amazonaws.com");

        List<Credential> found = find(IMAGE);

        assertEquals(1, found.size(), found.toString());
        assertEquals(config.toString(), found.get(0).location());
        assertTrue(found.get(0).problem().contains("provider name cannot"), found.get(0).problem());
        assertFalse(Files.exists(dir.resolve("ran")));
    }

    static Stream<Arguments> badConfigs() {
        String ok = providerYaml(PROVIDER, "*.dkr.ecr.*.amazonaws.com");
        return Stream.of(
                Arguments.of(header() + "  - name: [unclosed\n", "not valid YAML"),
                Arguments.of("{\"apiVersion\": \"kubelet.config.k8s.io/v1\",", "not valid JSON"),
                Arguments.of("just a string\n", "not a CredentialProviderConfig object"),
                Arguments.of("providers:\n" + ok, "'kind' is missing"),
                Arguments.of("apiVersion: kubelet.config.k8s.io/v1\nkind: Pod\nproviders:\n" + ok, "kind \"Pod\""),
                Arguments.of("apiVersion: v1\nkind: CredentialProviderConfig\nproviders:\n" + ok, "not in group"),
                Arguments.of("apiVersion: kubelet.config.k8s.io/v2\nkind: CredentialProviderConfig\nproviders:\n" + ok,
                        "not one the kubelet knows"),
                Arguments.of(header() + ok + "extra: true\n", "unknown field \"extra\""),
                Arguments.of(header() + ok.replace("matchImages:", "matchImage:"), "unknown field \"matchImage\""),
                Arguments.of(header() + ok.replace("matchImages:\n      - \"*.dkr.ecr.*.amazonaws.com\"",
                        "matchImages: \"*.dkr.ecr.*.amazonaws.com\""), "matchImages must be a list of strings"),
                Arguments.of(header() + ok.replace("\"12h\"", "12"),
                        "defaultCacheDuration must be a duration string"),
                Arguments.of(header() + ok.replace("\"12h\"", "\"half a day\""), "is not a duration"),
                Arguments.of(header() + ok.replace("    defaultCacheDuration: \"12h\"\n", ""),
                        "defaultCacheDuration is required"),
                Arguments.of(header() + ok.replace("\"12h\"", "\"-1s\""), "must not be negative"),
                Arguments.of(header() + ok.replace("credentialprovider.kubelet.k8s.io/v1",
                        "credentialprovider.kubelet.k8s.io/v2"), "is not supported"),
                Arguments.of(header() + ok.replace("      - \"*.dkr.ecr.*.amazonaws.com\"\n", ""),
                        "matchImages needs at least one entry"),
                Arguments.of(header() + ok.replace("*.dkr.ecr.*.amazonaws.com", "bad host.example.com"),
                        "not a valid image pattern"),
                Arguments.of(header() + ok.replace("*.dkr.ecr.*.amazonaws.com", "registry.io:http"),
                        "not a valid image pattern"),
                Arguments.of(header() + ok + ok, "duplicate provider name"),
                Arguments.of(header() + ok + "  - name: dup\n    name: dup\n", "not valid YAML"),
                Arguments.of("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n",
                        "lists no providers"),
                Arguments.of("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: {}\n",
                        "'providers' must be a list"),
                Arguments.of(header() + "  - name: x\n    matchImages: [a.io]\n    defaultCacheDuration: 1h\n"
                        + "    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    env: [{name: A, value: 1}]\n",
                        "value must be a string"),
                Arguments.of("# " + "x".repeat(1024 * 1024) + "\n" + header() + ok, "larger than 1 MiB"));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void configurationsTheKubeletRefusesAreEvidence(String text, String expected) throws IOException {
        script(PROVIDER, "touch \"$PP_DIR/ran\"\n");
        Files.writeString(config, text);

        List<Credential> found = find(IMAGE);

        assertEquals(1, found.size(), found.toString());
        Credential c = found.get(0);
        assertTrue(c.source().startsWith("kubelet-credential-provider"), c.source());
        assertEquals(config.toString(), c.location());
        assertEquals(ECR_HOST, c.registry());
        assertNull(c.secret());
        assertTrue(c.problem().contains(expected), c.problem());
        assertTrue(c.problem().endsWith("the kubelet exits at startup with this configuration"), c.problem());
        assertFalse(Files.exists(dir.resolve("ran")));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Matching and the other pieces of kubelet behaviour

    // One glob per dot-separated part; ports equal; the path a string prefix; case-sensitive. Go's globs negate
    // with '^' only ('!' is a literal), and '^' cannot appear in a URL host, so that pattern never matches; a '?'
    // starts a URL query, so it cannot be a glob here either.
    @ParameterizedTest(name = "{0} vs {1} -> {2}")
    @CsvSource({
        "*.dkr.ecr.*.amazonaws.com,       123456789012.dkr.ecr.us-east-1.amazonaws.com/app,    true",
        "*.dkr.ecr.*.amazonaws.com,       123456789012.dkr.ecr.us-east-1.amazonaws.com,        true",
        "*.dkr.ecr.*.amazonaws.com,       123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a,  false",
        "*.dkr.ecr.*.amazonaws.com.cn,    123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a,  true",
        "*.dkr.ecr.*.amazonaws.com,       123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/a, false",
        "*.dkr.ecr.*.amazonaws.com,       dkr.ecr.us-east-1.amazonaws.com/app,                 false",
        "*.io,                            k8s.gcr.io/pause,                                    false",
        "*.k8s.io,                        registry.k8s.io/pause,                               true",
        "k8s.*.io,                        k8s.gcr.io/pause,                                    true",
        "k8s.*,                           k8s.io/pause,                                        true",
        "app*.k8s.io,                     app1.k8s.io/x,                                       true",
        "app*.k8s.io,                     web.k8s.io/x,                                        false",
        "*.*.registry.io,                 a.b.registry.io/x,                                   true",
        "*.*.registry.io,                 a.registry.io/x,                                     false",
        "registry[0-9].example.com,       registry7.example.com/x,                             true",
        "registry[!0-9].example.com,      registry7.example.com/x,                             true",
        "registry[^0-9].example.com,      registryx.example.com/x,                             false",
        "a[.io,                           a[.io/x,                                             false",
        "gcr.io,                          gcr.io/project/image,                                true",
        "gcr.io,                          GCR.io/project/image,                                false",
        "registry.io:8080/path,           registry.io:8080/path/image,                         true",
        "registry.io:8080/path,           registry.io:8080/other/image,                        false",
        "registry.io:8080/path,           registry.io/path/image,                              false",
        "registry.io,                     registry.io:8080/image,                              false",
        "registry.io/path,                registry.io/pathology/image,                         true",
        "localhost:5000,                  localhost:5000/app,                                  true",
        "[::1]:5000,                      [::1]:5000/app,                                      true",
        "public.ecr.aws,                  public.ecr.aws,                                      true",
        "public.ecr.aws,                  public.ecr.aws/nginx/nginx,                          true",
        "reg?.io,                         reg1.io/x,                                           false",
        "user@registry.io,                registry.io/x,                                       true",
        "registry.io:http,                registry.io/x,                                       false",
        "'',                              registry.io/x,                                       false",
        "registry.io,                     '',                                                  false",
    })
    void matchImagesFollowsTheKubelet(String pattern, String image, boolean expected) {
        assertEquals(expected, KubeletCredentialProvider.matches(pattern, image));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1, 123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
        "registry.io/a/b@sha256:abc,                          registry.io/a/b",
        "localhost:5000/app:1,                                localhost:5000/app",
        "busybox,                                             docker.io/library/busybox",
        "busybox:1.36,                                        docker.io/library/busybox",
        "myorg/app:2,                                         docker.io/myorg/app",
        "index.docker.io/myorg/app,                           docker.io/myorg/app",
        "docker.io/nginx,                                     docker.io/library/nginx",
        "public.ecr.aws,                                      public.ecr.aws",
        "localhost:5000,                                      localhost:5000",
    })
    void imageIsSentAsTheKubeletNormalisesIt(String image, String repository) {
        assertEquals(repository, KubeletCredentialProvider.repository(image));
    }

    @Test
    void goDurationsParseAsMetav1DurationDoes() {
        assertEquals(Duration.ofHours(12), KubeletCredentialProvider.parseGoDuration("12h"));
        assertEquals(Duration.ofHours(12), KubeletCredentialProvider.parseGoDuration("12h0m0s"));
        assertEquals(Duration.ofMinutes(90), KubeletCredentialProvider.parseGoDuration("1h30m"));
        assertEquals(Duration.ofMillis(1500), KubeletCredentialProvider.parseGoDuration("1.5s"));
        assertEquals(Duration.ofMillis(300), KubeletCredentialProvider.parseGoDuration("300ms"));
        assertEquals(Duration.ofNanos(2000), KubeletCredentialProvider.parseGoDuration("2\u00b5s"));
        assertEquals(Duration.ZERO, KubeletCredentialProvider.parseGoDuration("0"));
        assertEquals(Duration.ofSeconds(-1), KubeletCredentialProvider.parseGoDuration("-1s"));
        for (String bad : new String[] {"", "12", "h", "1d", ".s", "1h 2m", "soon", "-"}) {
            assertNull(KubeletCredentialProvider.parseGoDuration(bad), bad);
        }
    }

    @Test
    void authKeysAreIndexedAsTheKeyringDoes() {
        assertEquals("index.docker.io", KubeletCredentialProvider.keyringKey("https://index.docker.io/v1/"));
        assertEquals("registry.io/team", KubeletCredentialProvider.keyringKey("http://registry.io/v2/team"));
        assertEquals("registry.io:5000", KubeletCredentialProvider.keyringKey("registry.io:5000/"));
        assertEquals("*.dkr.ecr.*.amazonaws.com", KubeletCredentialProvider.keyringKey("*.dkr.ecr.*.amazonaws.com"));
        assertNull(KubeletCredentialProvider.keyringKey("bad host"));
    }

    @Test
    void requestIsTheKubeletsEncoding() {
        assertEquals("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" + V1 + "\",\"image\":\"r.io/a\"}\n",
                new String(KubeletCredentialProvider.request(V1, "r.io/a"), StandardCharsets.UTF_8));
    }

    @Test
    void blankImageIsNothingToLookUp() throws IOException {
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");
        assertEquals(List.of(), find(" "));
        assertEquals(List.of(), find(null));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    @Test
    @org.junit.jupiter.api.DisplayName("the daemon asks the provider as often as the kubelet would: a 6h Registry answer "
            + "serves every image of that registry; cacheDuration 0s and failures are not kept")
    void answersAreKeptAsTheKubeletKeepsThem() throws IOException {
        script(PROVIDER, "echo run >> \"$PP_DIR/runs.txt\"\n" + kubeletLikeProvider("Registry", "*.dkr.ecr.*.amazonaws.com"));
        writeProvider(PROVIDER, "*.dkr.ecr.*.amazonaws.com");
        Files.writeString(config, Files.readString(config).replace("${PP_DIR}", dir.toString()));
        KubeletCredentialProvider daemon = new KubeletCredentialProvider(config, bin, TIMEOUT);
        assertTrue(track(daemon.find(IMAGE)).get(0).usable());
        assertTrue(track(daemon.find(ECR_HOST + "/other:2")).get(0).usable());
        assertEquals(1, Files.readAllLines(dir.resolve("runs.txt")).size(), "a cached answer ran the provider again");

        script(PROVIDER, "echo run >> \"$PP_DIR/runs.txt\"\n" + kubeletLikeProvider("Image", "*.dkr.ecr.*.amazonaws.com")
                .replace("6h0m0s", "0s"));
        KubeletCredentialProvider uncached = new KubeletCredentialProvider(config, bin, TIMEOUT);
        track(uncached.find(IMAGE));
        track(uncached.find(IMAGE));
        assertEquals(3, Files.readAllLines(dir.resolve("runs.txt")).size(), "cacheDuration 0s must not be kept");

        script(PROVIDER, "echo run >> \"$PP_DIR/runs.txt\"\nexit 1\n");
        KubeletCredentialProvider failing = new KubeletCredentialProvider(config, bin, TIMEOUT);
        assertFalse(track(failing.find(IMAGE)).get(0).usable());
        assertFalse(track(failing.find(IMAGE)).get(0).usable());
        assertEquals(5, Files.readAllLines(dir.resolve("runs.txt")).size(), "a failure must not be kept");
    }

    /**
     * A provider that behaves like a real one: reads the request (kept for the test), answers in the apiVersion it
     * was asked in with an ECR-style token under {@code authKey}, and records its arguments and environment.
     */
    private static String kubeletLikeProvider(String cacheKeyType, String authKey) {
        return """
                req=$(cat)
                printf '%%s\\n' "$req" > "$PP_DIR/req.json"
                : > "$PP_DIR/args.txt"
                for a in "$@"; do printf '%%s\\n' "$a" >> "$PP_DIR/args.txt"; done
                echo "profile=$AWS_PROFILE path=${PATH:+yes}" > "$PP_DIR/env.txt"
                ver=$(printf '%%s' "$req" | sed 's/.*"apiVersion":"\\([^"]*\\)".*/\\1/')
                printf '{"apiVersion":"%%s","kind":"CredentialProviderResponse","cacheKeyType":"%s",\
                "cacheDuration":"6h0m0s","auth":{"%s":{"username":"AWS","password":"%s"}}}\\n' "$ver"
                """.formatted(cacheKeyType, authKey, TOKEN);
    }

    /** A provider that records the request and prints {@code stdout} verbatim. */
    private void respondWith(String stdout) throws IOException {
        respondWith(stdout, "*.dkr.ecr.*.amazonaws.com");
    }

    private void respondWith(String stdout, String matchImage) throws IOException {
        Path answer = dir.resolve("answer.out");
        Files.writeString(answer, stdout);
        script(PROVIDER, "cat > \"$PP_DIR/req.json\"\ncat \"" + answer + "\"\n");
        writeProvider(PROVIDER, matchImage);
    }

    private void script(String name, String body) throws IOException {
        Path p = bin.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    }

    private void writeProvider(String name, String matchImage) throws IOException {
        Files.writeString(config, (header() + providerYaml(name, matchImage)).replace("${PP_DIR}", dir.toString()));
    }

    private static String header() {
        return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n";
    }

    /** PP_DIR reaches the scripts through the provider's env, the way a real config passes AWS_PROFILE. */
    private static String providerYaml(String name, String matchImage) {
        return """
                  - name: "%s"
                    matchImages:
                      - "%s"
                    defaultCacheDuration: "12h"
                    apiVersion: credentialprovider.kubelet.k8s.io/v1
                    env:
                      - name: PP_DIR
                        value: "${PP_DIR}"
                      - name: AWS_PROFILE
                        value: node
                """.formatted(name, matchImage);
    }

    private List<Credential> find(String image) throws IOException {
        // The config text names PP_DIR symbolically so the static builders need no instance; fill it in here.
        if (Files.exists(config)) {
            Files.writeString(config, Files.readString(config).replace("${PP_DIR}", dir.toString()));
        }
        return track(new KubeletCredentialProvider(config, bin, TIMEOUT).find(image));
    }

    private List<Credential> track(List<Credential> found) {
        assertNotNull(found);
        seen.addAll(found);
        return found;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private long pid(String file) throws IOException {
        return Long.parseLong(Files.readString(dir.resolve(file)).strip());
    }

    /** Gone, or a zombie waiting for a reaper (the container's init may be slow or absent): either way not running. */
    private static void assertGone(long pid) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (running(pid) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertFalse(running(pid), "process " + pid + " still running");
    }

    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }
}

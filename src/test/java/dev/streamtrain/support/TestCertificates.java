package dev.streamtrain.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * A test certificate authority made with the JDK's own keytool (no extra library): its certificate in a PKCS12
 * truststore and as PEM, a server key pair for {@code localhost}/{@code 127.0.0.1} and a client key pair, both
 * signed by it, each in a PKCS12 keystore with the CA in its chain. Valid for two days from generation.
 */
public record TestCertificates(Path dir, String password, Path caPem, Path truststore, Path serverKeystore,
                               Path clientKeystore) {

    private static final String PASSWORD = "streamtrain-test";
    private static final long KEYTOOL_TIMEOUT_SECONDS = 120;

    /** Generates a fresh CA, server and client under {@code dir} (created if absent). */
    public static TestCertificates generate(Path dir) {
        try {
            Files.createDirectories(dir);
            TestCertificates certificates = new TestCertificates(dir, PASSWORD, dir.resolve("ca.pem"),
                    dir.resolve("truststore.p12"), dir.resolve("server.p12"), dir.resolve("client.p12"));
            certificates.make();
            return certificates;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot generate test certificates in " + dir, e);
        }
    }

    /** Trust managers that trust this CA only. */
    public TrustManager[] trustManagers() {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(load(truststore));
            return trust.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot read the truststore " + truststore, e);
        }
    }

    /** A TLS context that trusts this CA only, and presents the client certificate when {@code withClientKey}. */
    public SSLContext sslContext(boolean withClientKey) {
        try {
            KeyManagerFactory keys = null;
            if (withClientKey) {
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(load(clientKeystore), password.toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a TLS context from " + dir, e);
        }
    }

    /**
     * The server's key pair as a kubernetes.io/tls Secret holds it (and cert-manager writes it): {@code certificate}
     * gets the PEM chain (the server's certificate, then the CA's), {@code key} the unencrypted PKCS#8 private key.
     */
    public void writeServerPem(Path certificate, Path key) {
        try {
            KeyStore store = load(serverKeystore);
            var pem = new StringBuilder();
            for (Certificate link : store.getCertificateChain("key")) {
                pem.append(pem("CERTIFICATE", link.getEncoded()));
            }
            Files.writeString(certificate, pem);
            Files.writeString(key, pem("PRIVATE KEY", store.getKey("key", password.toCharArray()).getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot write the server's key pair from " + serverKeystore, e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private KeyStore load(Path file) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            store.load(in, password.toCharArray());
        }
        return store;
    }

    private void make() throws IOException {
        Path ca = dir.resolve("ca.p12");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=streamtrain test CA", "-ext", "bc:c", "-keystore", ca.toString());
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", caPem.toString());
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore",
                truststore.toString());
        signed(ca, serverKeystore, "CN=localhost", "san=dns:localhost,ip:127.0.0.1", "serverAuth,clientAuth");
        signed(ca, clientKeystore, "CN=streamtrain-client", "san=dns:streamtrain-client", "clientAuth");
    }

    // a key pair in its own keystore, its certificate signed by the CA and imported back with the CA before it
    private void signed(Path ca, Path keystore, String dname, String san, String usage) throws IOException {
        Path request = Path.of(keystore + ".csr");
        Path certificate = Path.of(keystore + ".pem");
        keytool("-genkeypair", "-alias", "key", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", dname, "-keystore", keystore.toString());
        keytool("-certreq", "-alias", "key", "-keystore", keystore.toString(), "-file", request.toString());
        keytool("-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-infile", request.toString(),
                "-outfile", certificate.toString(), "-validity", "2", "-ext", san, "-ext", "eku=" + usage);
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore",
                keystore.toString());
        keytool("-importcert", "-alias", "key", "-file", certificate.toString(), "-keystore", keystore.toString());
    }

    private void keytool(String... arguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", password, "-keypass", password));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("keytool " + arguments[0] + " did not finish within "
                        + KEYTOOL_TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running keytool", e);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", arguments) + " failed: " + output);
        }
    }
}

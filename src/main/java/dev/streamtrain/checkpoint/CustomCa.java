package dev.streamtrain.checkpoint;

import software.amazon.awssdk.http.TlsTrustManagersProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The certificate authorities that an S3 API server's HTTPS certificate must chain to, when they are not the JDK's:
 * a PEM file of one or more CA certificates ({@code streamtrain.checkpoint.s3.ca-file}, e.g. the {@code ca.crt} of a
 * Kubernetes Secret). Only these are trusted then, so a store on a private CA cannot be impersonated by any public one.
 */
final class CustomCa {

    private CustomCa() {
    }

    /** Trust managers for the CAs in {@code pemFile}; fails at start, naming the file, when it holds none. */
    static TlsTrustManagersProvider trusting(Path pemFile) {
        TrustManager[] managers = load(pemFile);
        return () -> managers;
    }

    private static TrustManager[] load(Path pemFile) {
        try (InputStream in = Files.newInputStream(pemFile)) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("streamtrain.checkpoint.s3.ca-file " + pemFile
                        + " holds no PEM certificate");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate certificate : certificates) {
                store.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (IOException e) {
            throw new UncheckedIOException("streamtrain.checkpoint.s3.ca-file " + pemFile + " cannot be read", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("streamtrain.checkpoint.s3.ca-file " + pemFile
                    + " is not a PEM file of CA certificates: " + e.getMessage(), e);
        }
    }
}

package dev.warmstart.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * The agent as the chart runs it: HTTPS only on its port, with a certificate and PKCS#1 key in the
 * files Helm's genSignedCert writes; the root-only Unix socket for the CLI keeps working.
 */
@QuarkusTest
@TestProfile(AgentTlsTest.Tls.class)
@WithKubernetesTestServer
class AgentTlsTest {
  static final Path DIR = Path.of("target/agent-tls");

  /** The chart's settings (QUARKUS_HTTP_SSL_*, insecure requests disabled) on free ports. */
  public static class Tls implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      try {
        writeCertificates();
        return Map.of(
            "quarkus.http.test-port", String.valueOf(freePort()),
            "quarkus.http.test-ssl-port", String.valueOf(freePort()),
            "quarkus.http.insecure-requests", "disabled",
            "quarkus.http.ssl.certificate.files", DIR.resolve("tls.crt").toString(),
            "quarkus.http.ssl.certificate.key-files", DIR.resolve("tls.key").toString(),
            "quarkus.http.domain-socket", "target/agent-tls/agent.sock");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void servesHttpsWithTheMountedCertificateAndNoPlainHttp() throws Exception {
    var config = org.eclipse.microprofile.config.ConfigProvider.getConfig();
    int ssl = config.getValue("quarkus.http.test-ssl-port", Integer.class);
    int plain = config.getValue("quarkus.http.test-port", Integer.class);

    HttpClient https = HttpClient.newBuilder().sslContext(trustingTheCa()).build();
    HttpResponse<String> r =
        https.send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + ssl + "/v1/operations"))
                .timeout(Duration.ofSeconds(20))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("over TLS, then no token").isEqualTo(401);

    HttpClient http = HttpClient.newHttpClient();
    assertThatThrownBy(
            () ->
                http.send(
                    HttpRequest.newBuilder(URI.create("http://localhost:" + ssl + "/v1/operations"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .as("plain HTTP on the TLS port")
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> new Socket("localhost", plain).close())
        .as("no plain HTTP port at all")
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void theCliSocketStillAnswers() throws Exception {
    Process curl =
        new ProcessBuilder(
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--unix-socket",
                DIR.resolve("agent.sock").toString(),
                "http://localhost/v1/operations/none")
            .redirectErrorStream(true)
            .start();
    String code = new String(curl.getInputStream().readAllBytes()).trim();
    curl.waitFor(30, TimeUnit.SECONDS);
    assertThat(code).as("authorized by the socket, then not found").isEqualTo("404");
  }

  private static SSLContext trustingTheCa() throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    ks.setCertificateEntry(
        "ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(DIR.resolve("ca.crt")))));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A CA and a certificate for "localhost" signed by it, as PEM files (key in PKCS#1, as Helm). */
  static void writeCertificates() throws Exception {
    Files.createDirectories(DIR);
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair caKey = g.generateKeyPair();
    KeyPair key = g.generateKeyPair();
    Date from = Date.from(Instant.now().minus(Duration.ofMinutes(5)));
    Date to = Date.from(Instant.now().plus(Duration.ofDays(1)));
    X509Certificate ca =
        sign(
            new JcaX509v3CertificateBuilder(
                    new X500Name("CN=test-agent-ca"),
                    BigInteger.ONE,
                    from,
                    to,
                    new X500Name("CN=test-agent-ca"),
                    caKey.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true)),
            caKey);
    X509Certificate cert =
        sign(
            new JcaX509v3CertificateBuilder(
                    ca, BigInteger.TWO, from, to, new X500Name("CN=localhost"), key.getPublic())
                .addExtension(
                    Extension.subjectAlternativeName,
                    false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost"))),
            caKey);
    Files.writeString(DIR.resolve("ca.crt"), pem(ca));
    Files.writeString(DIR.resolve("tls.crt"), pem(cert));
    Files.writeString(DIR.resolve("tls.key"), pem(key)); // "RSA PRIVATE KEY", as genSignedCert
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer.getPrivate())));
  }

  private static String pem(Object o) throws IOException {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(o);
    }
    return w.toString();
  }
}

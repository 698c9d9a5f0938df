package dev.warmstart.operator.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Trust for the agents' HTTPS: the chain must end at the agents' CA (the chart's, or one the user
 * provides), and the leaf must be issued for the agents' fixed server name. The operator reaches
 * agents by pod IP, which no certificate made before the pod can name, so the name is checked
 * instead of the address: only a holder of a key the CA signed for that name passes.
 */
public final class AgentTls {
  private static final int SAN_DNS = 2;

  private AgentTls() {}

  /** A TLS context that trusts only {@code caFile}'s certificates, for {@code serverName}. */
  public static SSLContext context(byte[] caPem, String serverName)
      throws GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    try {
      trust.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    Collection<? extends Certificate> cas =
        CertificateFactory.getInstance("X.509")
            .generateCertificates(new ByteArrayInputStream(caPem));
    if (cas.isEmpty()) {
      throw new CertificateException("the agents' CA file holds no certificate");
    }
    int i = 0;
    for (Certificate ca : cas) {
      trust.setCertificateEntry("agent-ca-" + i++, ca);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    X509TrustManager pkix =
        Arrays.stream(tmf.getTrustManagers())
            .filter(X509TrustManager.class::isInstance)
            .map(X509TrustManager.class::cast)
            .findFirst()
            .orElseThrow();
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(null, new TrustManager[] {new NamedServer(pkix, serverName)}, null);
    return ctx;
  }

  public static SSLContext context(Path caFile, String serverName)
      throws IOException, GeneralSecurityException {
    return context(Files.readAllBytes(caFile), serverName);
  }

  /**
   * Chain validation by the JDK's PKIX trust manager, then the fixed name against the leaf's DNS
   * subject alternative names. As an {@link X509ExtendedTrustManager} it replaces the JDK's own
   * host name check (which would compare with the pod IP).
   */
  static final class NamedServer extends X509ExtendedTrustManager {
    private final X509TrustManager pkix;
    private final String serverName;

    NamedServer(X509TrustManager pkix, String serverName) {
      this.pkix = pkix;
      this.serverName = serverName;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
      Collection<List<?>> sans = chain[0].getSubjectAlternativeNames();
      boolean named =
          sans != null
              && sans.stream()
                  .anyMatch(
                      san ->
                          ((Integer) san.get(0)) == SAN_DNS
                              && serverName.equalsIgnoreCase((String) san.get(1)));
      if (!named) {
        throw new CertificateException(
            "the agent's certificate is not issued for " + serverName + " (names: " + sans + ")");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("the operator does not accept TLS clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }
}

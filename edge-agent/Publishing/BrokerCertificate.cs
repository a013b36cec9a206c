using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using NewTechPark.Edge.Agent.Configuration;

namespace NewTechPark.Edge.Agent.Publishing;

/// <summary>
/// How the agent trusts the broker over TLS: the system's roots, or only the site's own CA
/// (<see cref="BrokerOptions.CaCertificateFile"/>), and in both cases the certificate must name the
/// host the agent connects to.
/// </summary>
public static class BrokerCertificate
{
    public static void Configure(MqttClientTlsOptionsBuilder tls, BrokerOptions broker)
    {
        tls.UseTls()
            .WithTargetHost(broker.Host)
            .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13);
        if (!string.IsNullOrWhiteSpace(broker.CaCertificateFile))
        {
            var authority = X509CertificateLoader.LoadCertificateFromFile(broker.CaCertificateFile);
            tls.WithCertificateValidationHandler(e => IsTrusted(e.Certificate, e.SslPolicyErrors, authority));
        }
    }

    /// <summary>True when the broker's certificate names the host and chains up to <paramref name="authority"/>.</summary>
    public static bool IsTrusted(X509Certificate? presented, SslPolicyErrors errors, X509Certificate2 authority)
    {
        if (presented is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        // A site CA has no revocation service the Pi could reach.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}

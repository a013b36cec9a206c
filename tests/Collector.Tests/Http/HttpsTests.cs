using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary>The pages and the admin calls over HTTPS (Kestrel:Endpoints with a certificate), so the admin token never crosses the network in clear.</summary>
public sealed class HttpsTests
{
    private const string Token = "https-admin-token-0123456789";

    [Fact]
    public async Task An_admin_call_over_HTTPS_with_a_self_signed_certificate_goes_through()
    {
        using var folder = new TempDirectory();
        var (certificateFile, keyFile, certificate) = WriteSelfSignedCertificate(folder.Path);
        using (certificate)
        {
            var port = FreePort.Next();
            var app = CollectorHost.Build(
            [
                $"--Kestrel:Endpoints:Https:Url=https://127.0.0.1:{port}",
                $"--Kestrel:Endpoints:Https:Certificate:Path={certificateFile}",
                $"--Kestrel:Endpoints:Https:Certificate:KeyPath={keyFile}",
                $"--Collector:DataDirectory={Path.Combine(folder.Path, "data")}",
                $"--Collector:Broker:Port={FreePort.Next()}",
                $"--Collector:Admin:Token={Token}",
                "--Logging:LogLevel:Default=Warning",
            ]);
            await app.StartAsync();
            try
            {
                // The client trusts exactly this certificate, as a browser would after it was installed.
                using var handler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.RawData.AsSpan().SequenceEqual(certificate.RawData),
                };
                using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

                Assert.Equal(HttpStatusCode.OK, (await https.GetAsync("/facility")).StatusCode);
                using var post = new HttpRequestMessage(HttpMethod.Post, "/api/v1/occupancy/dc-lab/corrections")
                {
                    Content = JsonContent.Create(new { count = 3, reason = "counted by hand" }),
                };
                post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
                var response = await https.SendAsync(post);
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);

                // Plain HTTP on the HTTPS port gets no answer: nothing is served in clear there.
                using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                await Assert.ThrowsAnyAsync<Exception>(() => plain.GetStringAsync($"http://127.0.0.1:{port}/api/v1/site"));

                // A client that does not trust the certificate refuses to talk (no token leaves it).
                using var untrusting = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync($"https://127.0.0.1:{port}/api/v1/site"));
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            }
        }
    }

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, written as PEM files.</summary>
    private static (string Certificate, string Key, X509Certificate2 Loaded) WriteSelfSignedCertificate(string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ntp-collector-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certificateFile = Path.Combine(folder, "collector.crt");
        var keyFile = Path.Combine(folder, "collector.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile, certificate);
    }
}

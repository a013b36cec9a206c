using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary><c>/api/v1/stream</c> over real HTTP: events arrive, the caps answer 429 and 503, and stopping the host ends the stream.</summary>
public sealed class StreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Events_arrive_and_past_the_caps_clients_get_429_per_address_and_503_in_total()
    {
        await using var collector = await InProcessCollector.StartAsync("--Collector:Stream:MaxClientsPerAddress=2", "--Collector:Stream:MaxClients=3");
        using var cancel = new CancellationTokenSource(Patience);
        using var first = await OpenAsync(collector.Http, cancel.Token);
        using var second = await OpenAsync(collector.Http, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        using var third = await OpenAsync(collector.Http, cancel.Token);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("application/problem+json", third.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(10), third.Headers.RetryAfter?.Delta);
        var problem = JsonDocument.Parse(await third.Content.ReadAsStringAsync(cancel.Token)).RootElement;
        Assert.Contains("Collector:Stream:MaxClientsPerAddress", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The total cap, from another loopback address.
        using var elsewhere = new HttpClient(new SocketsHttpHandler { ConnectCallback = FromAddress(IPAddress.Parse("127.0.0.2")) }) { BaseAddress = collector.Http.BaseAddress };
        using var fromElsewhere = await OpenAsync(elsewhere, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, fromElsewhere.StatusCode);
        using var beyond = await OpenAsync(elsewhere, cancel.Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, beyond.StatusCode);
        Assert.NotNull(beyond.Headers.RetryAfter);

        var metrics = collector.Services.GetRequiredService<CollectorMetrics>();
        Assert.Equal(1, metrics.StreamRefused.WithLabels("per_address").Value);
        Assert.Equal(1, metrics.StreamRefused.WithLabels("total").Value);
        Assert.Equal(3, metrics.StreamClients.Value);

        // An event reaches an open stream as "event: device" with its JSON.
        var hub = collector.Services.GetRequiredService<LiveEventHub>();
        hub.Publish(new DeviceEvent("pi-entrance", "online", DateTimeOffset.UtcNow) { Site = "newtechpark" });
        using var reader = new StreamReader(await first.Content.ReadAsStreamAsync(cancel.Token));
        Assert.Equal("event: device", await reader.ReadLineAsync(cancel.Token));
        var data = await reader.ReadLineAsync(cancel.Token);
        Assert.StartsWith("data: {\"device\":\"pi-entrance\",\"state\":\"online\"", data, StringComparison.Ordinal);

        // A closed stream gives its place back.
        second.Dispose();
        await Eventually.UntilAsync(() => collector.Services.GetRequiredService<StreamClients>().Count == 2, "the closed stream is released", Patience);
        using var again = await OpenAsync(collector.Http, cancel.Token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Stopping_the_host_ends_an_open_stream()
    {
        var collector = await InProcessCollector.StartAsync();
        await using (collector)
        {
            using var cancel = new CancellationTokenSource(Patience);
            using var open = await OpenAsync(collector.Http, cancel.Token);
            var stream = await open.Content.ReadAsStreamAsync(cancel.Token);
            var ended = ReadToEndAsync(stream, cancel.Token);

            Assert.False(ended.IsCompleted);

            // What SIGTERM does first: the host says it is stopping; the stream must not hold the shutdown.
            collector.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
            await ended.WaitAsync(Patience);
            await Eventually.UntilAsync(() => collector.Services.GetRequiredService<StreamClients>().Count == 0, "the stream is released", Patience);
        }
    }

    private static async Task ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        catch (IOException)
        {
            // An aborted connection ends the stream too.
        }
        catch (HttpRequestException)
        {
        }
    }

    private static Task<HttpResponseMessage> OpenAsync(HttpClient http, CancellationToken cancellationToken) =>
        http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/stream"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    private static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> FromAddress(IPAddress local) => async (context, cancellationToken) =>
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(local, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };
}

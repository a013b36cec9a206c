using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Tests.Http;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary>The live stream per site: a client of one site gets that site's events only, each site's part formatted once.</summary>
public sealed class SiteStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_mixed_batch_is_split_once_per_site_and_shared_by_that_sites_clients()
    {
        using var hub = new LiveEventHub(new CollectorMetrics());
        using var a1 = hub.Subscribe("site-a");
        using var a2 = hub.Subscribe("site-a");
        using var b = hub.Subscribe("site-b");
        using var c = hub.Subscribe("site-c");
        using var all = hub.Subscribe();

        hub.Publish([Device("pi-1", "site-a"), Device("pi-2", "site-b"), Device("pi-3", "site-a"), Device("pi-4", null)]);

        var takenA1 = await TakeAsync(a1);
        var takenA2 = await TakeAsync(a2);
        var takenB = await TakeAsync(b);
        var takenAll = await TakeAsync(all);
        Assert.Equal(["pi-1", "pi-3"], takenA1.Events.Select(e => ((DeviceEvent)e).Device));
        Assert.Same(takenA1, takenA2);
        Assert.Equal(["pi-2"], takenB.Events.Select(e => ((DeviceEvent)e).Device));
        Assert.Equal(4, takenAll.Count);

        // The site goes out last in each event's JSON; the server-sent bytes are made once per site.
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        Assert.True(takenA1.Sse(json).Equals(takenA2.Sse(json)));
        Assert.Contains("\"site\":\"site-b\"}", System.Text.Encoding.UTF8.GetString(takenB.Sse(json).Span), StringComparison.Ordinal);

        // A batch all of one site is handed on as it is; site-c got nothing of either.
        hub.Publish([Device("pi-5", "site-c")]);
        Assert.Equal(["pi-5"], (await TakeAsync(c)).Events.Select(e => ((DeviceEvent)e).Device));
        Assert.Equal(0, a1.Buffered);
        Assert.False(a1.TryTake(out _));
        Assert.False(b.TryTake(out _));
    }

    [Fact]
    public async Task Only_the_clients_own_sites_events_count_against_its_buffer()
    {
        using var hub = new LiveEventHub(new CollectorMetrics(), Microsoft.Extensions.Options.Options.Create(
            new Configuration.CollectorOptions { Stream = new Configuration.StreamOptions { ClientBufferEvents = 10 } }));
        using var quiet = hub.Subscribe("site-quiet");
        using var busy = hub.Subscribe("site-busy");

        // A busy site's flood drops its own slow client, never the client of a quiet site.
        for (var i = 0; i < 20; i++)
        {
            hub.Publish([Device($"pi-{i}", "site-busy")]);
        }

        await Eventually.UntilAsync(() => busy.IsDropped, "the busy site's slow client is dropped", Patience);
        hub.Publish([Device("pi-q", "site-quiet")]);
        Assert.Equal(["pi-q"], (await TakeAsync(quiet)).Events.Select(e => ((DeviceEvent)e).Device));
        Assert.False(quiet.IsDropped);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Over_http_each_sites_stream_carries_only_that_sites_events()
    {
        using var dir = new TempDirectory();
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Sites:0={SiteFiles.Folder(dir)}");
        using var cancel = new CancellationTokenSource(Patience);
        using var first = await OpenAsync(collector.Http, "/api/v1/stream?site=newtechpark", cancel.Token);
        using var second = await OpenAsync(collector.Http, $"/api/v1/stream?site={SiteFiles.SecondSite}", cancel.Token);
        using var unowned = await OpenAsync(collector.Http, "/api/v1/stream?site=elsewhere", cancel.Token);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unowned.StatusCode);
        await Eventually.UntilAsync(() => collector.Services.GetRequiredService<LiveEventHub>().Subscribers >= 2, "both streams subscribed", Patience);

        // Same door id at both sites; each site's last event is its device's status, sent after the other site's door.
        var pipeline = collector.Services.GetRequiredService<IngestPipeline>();
        var now = DateTimeOffset.UtcNow;
        pipeline.Enqueue(Door("newtechpark", "pi-entrance", now, 5), null);
        pipeline.Enqueue(Door(SiteFiles.SecondSite, "pi-zutphen", now, 2), null);
        pipeline.Enqueue(new StatusItem(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Status), new StatusMessage { Ts = now }, now), null);
        pipeline.Enqueue(new StatusItem(new TopicAddress(SiteFiles.SecondSite, "pi-zutphen", TopicChannel.Status), new StatusMessage { Ts = now }, now), null);

        var ofFirst = await ReadUntilDeviceAsync(first, "pi-entrance", cancel.Token);
        var ofSecond = await ReadUntilDeviceAsync(second, "pi-zutphen", cancel.Token);

        Assert.All(ofFirst, e => Assert.Equal("newtechpark", e.Data.GetProperty("site").GetString()));
        Assert.All(ofSecond, e => Assert.Equal(SiteFiles.SecondSite, e.Data.GetProperty("site").GetString()));
        Assert.Contains(ofFirst, e => e.Type == "reading" && e.Data.GetProperty("device").GetString() == "pi-entrance");
        Assert.Contains(ofFirst, e => e.Type == "occupancy" && e.Data.GetProperty("building").GetInt64() == 5);
        Assert.Contains(ofSecond, e => e.Type == "occupancy" && e.Data.GetProperty("room").GetString() == SiteFiles.SecondRoom && e.Data.GetProperty("count").GetInt64() == 2);
        Assert.DoesNotContain(ofFirst, e => e.Type == "occupancy" && e.Data.GetProperty("room").GetString() == SiteFiles.SecondRoom);
        Assert.DoesNotContain(ofSecond, e => e.Data.TryGetProperty("device", out var d) && d.GetString() == "pi-entrance");
    }

    private static DeviceEvent Device(string device, string? site) => new(device, "online", Noon) { Site = site };

    private static async Task<LiveBatch> TakeAsync(LiveSubscription subscription)
    {
        Assert.True(await subscription.WaitAsync(CancellationToken.None).AsTask().WaitAsync(Patience));
        Assert.True(subscription.TryTake(out var batch));
        return batch;
    }

    private static ReadingsItem Door(string site, string device, DateTimeOffset ts, long entered) =>
        new(new TopicAddress(site, device, TopicChannel.Readings), new ReadingsBatch
        {
            Seq = 1,
            Sent = ts,
            Readings = [TestData.Door("door-main", ts, entered, 0, entered, 0)],
        }, ts);

    private static async Task<List<(string Type, JsonElement Data)>> ReadUntilDeviceAsync(HttpResponseMessage response, string device, CancellationToken cancellationToken)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var events = new List<(string, JsonElement)>();
        string? type = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var data = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                events.Add((type!, data));
                if (type == "device" && data.GetProperty("device").GetString() == device)
                {
                    return events;
                }
            }
        }

        throw new InvalidOperationException("the stream ended before the device event");
    }

    private static Task<HttpResponseMessage> OpenAsync(HttpClient http, string path, CancellationToken cancellationToken) =>
        http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
}

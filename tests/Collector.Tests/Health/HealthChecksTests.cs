using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Health;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Tests.Http;

namespace NewTechPark.Edge.Collector.Tests.Health;

/// <summary>Each /healthz check in each of its states, and the endpoint over real HTTP.</summary>
public sealed class HealthChecksTests
{
    private const long GiB = 1L << 30;

    private sealed class FakeDisk(long free, long total) : IFreeSpaceProvider
    {
        public DiskSpace Of(string folder) => new(free, total);
    }

    [Theory]
    [InlineData(50 * GiB, 100 * GiB, HealthStatus.Healthy)]
    [InlineData(9 * GiB, 100 * GiB, HealthStatus.Degraded)] // under 10 %
    [InlineData(GiB - 1, 100 * GiB, HealthStatus.Unhealthy)] // under 1 GiB
    [InlineData(GiB / 2, 4 * GiB, HealthStatus.Unhealthy)] // 12.5 % free but under the floor
    public async Task Disk_is_degraded_under_ten_percent_and_unhealthy_under_one_GiB(long free, long total, HealthStatus expected)
    {
        var check = new DiskSpaceCheck(new FakeDisk(free, total), Options.Create(new CollectorOptions()));
        var result = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(expected, result.Status);
        Assert.Equal(free, result.Data["free_bytes"]);
    }

    [Fact]
    public async Task Disk_thresholds_are_settings()
    {
        var options = new CollectorOptions { Health = new HealthOptions { DiskDegradedPercent = 60, DiskUnhealthyBytes = 10 * GiB } };
        Assert.Equal(HealthStatus.Degraded, (await new DiskSpaceCheck(new FakeDisk(50 * GiB, 100 * GiB), Options.Create(options)).CheckHealthAsync(new HealthCheckContext())).Status);
        Assert.Equal(HealthStatus.Unhealthy, (await new DiskSpaceCheck(new FakeDisk(9 * GiB, 10 * GiB), Options.Create(options)).CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Store_is_healthy_when_a_probe_write_commits_and_unhealthy_when_it_cannot_take_the_write_lock()
    {
        using var folder = new TempDirectory();
        var options = Options.Create(new CollectorOptions { DataDirectory = folder.Path, Health = new HealthOptions { StoreWriteTimeout = TimeSpan.FromSeconds(1) } });
        using var store = new SqliteStore(Path.Combine(folder.Path, "collector.db"), NullLogger<SqliteStore>.Instance);
        var check = new StoreWritableCheck(new StoreProbe(store) { ReuseSuccessFor = TimeSpan.Zero }, store, options);

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        // The probe leaves nothing behind.
        using (var reader = store.OpenReader())
        using (var count = reader.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM dead_letters";
            Assert.Equal(0L, count.ExecuteScalar());
        }

        // Someone else holds the write lock past the timeout: the store cannot take a write.
        using (var blocker = store.OpenReader())
        using (var hold = blocker.CreateCommand())
        {
            hold.CommandText = "BEGIN IMMEDIATE";
            hold.ExecuteNonQuery();
            var blocked = await check.CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Unhealthy, blocked.Status);
            Assert.Contains("cannot take a write", blocked.Description, StringComparison.Ordinal);
            hold.CommandText = "ROLLBACK";
            hold.ExecuteNonQuery();
        }

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        // Polled often, the probe writes at most once per ReuseSuccessFor (an fsync each).
        var polled = new StoreProbe(store) { ReuseSuccessFor = TimeSpan.FromMinutes(1) };
        Assert.True(polled.WriteUnlessRecent(TimeSpan.FromSeconds(1)));
        Assert.False(polled.WriteUnlessRecent(TimeSpan.FromSeconds(1)));
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public void Broker_embedded_must_listen_and_outside_the_ingest_must_be_connected()
    {
        var embedded = new EmbeddedBrokerOptions { Embedded = true };
        var outside = new EmbeddedBrokerOptions { Embedded = false, Host = "mqtt.local", Port = 1883 };
        Assert.Equal(HealthStatus.Healthy, BrokerCheck.Evaluate(embedded, up: true).Status);
        Assert.Equal(HealthStatus.Unhealthy, BrokerCheck.Evaluate(embedded, up: false).Status);
        Assert.Equal(HealthStatus.Healthy, BrokerCheck.Evaluate(outside, up: true).Status);
        var down = BrokerCheck.Evaluate(outside, up: false);
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Contains("mqtt.local:1883", down.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Ingest_queue_is_degraded_above_its_threshold_near_its_bounds_while_publishers_wait_and_after_drops()
    {
        var now = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        IngestQueueState Queue(long messages, long bytes = 1_000, long dropped = 0, DateTimeOffset? lastDrop = null, int waiting = 0) =>
            new(messages, bytes, MaxMessages: 10_000, MaxBytes: 1_000_000, Committed: 5, dropped, lastDrop, waiting);

        Assert.Equal(HealthStatus.Healthy, IngestQueueCheck.Evaluate(Queue(100), 100, now).Status);
        var behind = IngestQueueCheck.Evaluate(Queue(101), 100, now);
        Assert.Equal(HealthStatus.Degraded, behind.Status);
        Assert.Equal(101L, behind.Data["queued"]);

        Assert.Equal(HealthStatus.Degraded, IngestQueueCheck.Evaluate(Queue(9_000), 100_000, now).Status);
        Assert.Equal(HealthStatus.Degraded, IngestQueueCheck.Evaluate(Queue(10, bytes: 900_000), 100_000, now).Status);
        Assert.Equal(HealthStatus.Degraded, IngestQueueCheck.Evaluate(Queue(10, waiting: 2), 100_000, now).Status);

        var dropped = IngestQueueCheck.Evaluate(Queue(10, dropped: 7, lastDrop: now.AddSeconds(-5)), 100_000, now);
        Assert.Equal(HealthStatus.Degraded, dropped.Status);
        Assert.Equal(7L, dropped.Data["dropped"]);
        Assert.Contains("dropped", dropped.Description, StringComparison.Ordinal);
        var later = IngestQueueCheck.Evaluate(Queue(10, dropped: 7, lastDrop: now - IngestQueueCheck.DropsShownFor), 100_000, now);
        Assert.Equal(HealthStatus.Healthy, later.Status);
        Assert.Equal(7L, later.Data["dropped"]);
    }

    [Fact]
    public void Influx_queue_is_degraded_when_it_grows_and_unhealthy_when_nearly_full()
    {
        Assert.Equal(HealthStatus.Healthy, InfluxQueueCheck.Evaluate(points: 10, bytes: 1_000, dropped: 0, maxBytes: 1_000_000, limit: 1_000).Status);
        Assert.Equal(HealthStatus.Degraded, InfluxQueueCheck.Evaluate(points: 1_001, bytes: 100_000, dropped: 0, maxBytes: 1_000_000, limit: 1_000).Status);
        Assert.Equal(HealthStatus.Unhealthy, InfluxQueueCheck.Evaluate(points: 50, bytes: 900_000, dropped: 0, maxBytes: 1_000_000, limit: 1_000).Status);
    }

    [Fact]
    public void Devices_offline_make_the_collector_degraded_and_are_named()
    {
        DeviceView Device(string id, string state) => new(id, state, null, null, null, null, null, 0, true);
        Assert.Equal(HealthStatus.Healthy, DevicesOfflineCheck.Evaluate([Device("pi-a", "online"), Device("pi-b", "never-seen")]).Status);
        var result = DevicesOfflineCheck.Evaluate([Device("pi-a", "online"), Device("pi-b", "offline")]);
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Equal(["pi-b"], (string[])result.Data["offline"]);
    }

    [Fact]
    public async Task Healthz_over_HTTP_names_every_check_and_answers_503_when_one_is_unhealthy()
    {
        await using (var collector = await InProcessCollector.StartAsync())
        {
            var response = await collector.Http.GetAsync("/healthz");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
            var checks = body.GetProperty("checks");
            Assert.Equal(["broker", "devices", "disk", "influx_queue", "ingest_queue", "store"], checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
            foreach (var check in checks.EnumerateObject())
            {
                Assert.NotEqual("Unhealthy", check.Value.GetProperty("status").GetString());
                Assert.False(string.IsNullOrEmpty(check.Value.GetProperty("description").GetString()), check.Name);
                Assert.Equal(JsonValueKind.Object, check.Value.GetProperty("data").ValueKind);
            }

            Assert.True(checks.GetProperty("disk").GetProperty("data").GetProperty("free_bytes").GetInt64() > 0);
        }

        // No disk here has a petabyte free: the disk check turns unhealthy and the answer is 503.
        await using (var starved = await InProcessCollector.StartAsync("--Collector:Health:DiskUnhealthyBytes=1000000000000000"))
        {
            var response = await starved.Http.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
            Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty("disk").GetProperty("status").GetString());
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("store").GetProperty("status").GetString());
        }
    }
}

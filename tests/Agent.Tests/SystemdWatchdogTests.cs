using System.Device.I2c;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Simulation;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>
/// The systemd watchdog: WATCHDOG=1 at half WATCHDOG_USEC while every loop makes progress,
/// withheld while one hangs, nothing at all without a watchdog.
/// </summary>
public sealed class SystemdWatchdogTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_loop_that_works_longer_than_the_limit_is_stale_and_a_beat_makes_it_alive()
    {
        var clock = TestClock.Create();
        var loops = new LoopHeartbeats(clock);
        using var loop = loops.Register("sensor dc-1 (dc)");

        clock.Advance(Limit);
        Assert.Empty(loops.Stale(Limit));
        clock.Advance(TimeSpan.FromSeconds(1));
        var stale = Assert.Single(loops.Stale(Limit));
        Assert.Equal("sensor dc-1 (dc)", stale.Loop);
        Assert.Equal(TimeSpan.FromSeconds(31), stale.Busy);

        loop.Beat();
        Assert.Empty(loops.Stale(Limit));
    }

    [Fact]
    public async Task A_loop_that_waits_normally_stays_alive_however_long_the_wait()
    {
        var clock = TestClock.Create();
        var loops = new LoopHeartbeats(clock);
        using var loop = loops.Register("publish: sender (outbox to broker)");
        var broker = new TaskCompletionSource();

        var waiting = loop.WaitAsync(broker.Task);
        clock.Advance(TimeSpan.FromHours(3));
        Assert.Empty(loops.Stale(Limit));

        broker.SetResult();
        await waiting;
        // The wait's end is a beat: the loop's work starts counting from there.
        Assert.Empty(loops.Stale(Limit));
        clock.Advance(Limit + TimeSpan.FromSeconds(1));
        Assert.Single(loops.Stale(Limit));
    }

    [Fact]
    public async Task A_timer_wait_through_the_ambient_heartbeat_is_alive_and_a_loop_that_ended_is_not_followed()
    {
        var clock = TestClock.Create();
        var loops = new LoopHeartbeats(clock);
        var loop = loops.Register("sensor climate-1 (climate)");
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(5), clock);

        var tick = Task.Run(async () =>
        {
            LoopHeartbeats.Current = loop;
            return await LoopHeartbeats.Current.AliveWhile(timer.WaitForNextTickAsync());
        });
        await Eventually.UntilAsync(() => loop.BusyFor() is null, "the reader waits for its tick");
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Empty(loops.Stale(Limit));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await tick);

        loop.Dispose();
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Empty(loops.Stale(Limit));
        Assert.Empty(loops.Loops);
    }

    [Theory]
    [InlineData("30000000", 30_000)]
    [InlineData("200000", 200)]
    [InlineData("1", 20)]
    [InlineData("18446744073709551615", 86_400_000)]
    public void WATCHDOG_USEC_is_read_as_a_bounded_timeout(string usec, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), SystemdWatchdogSetup.TimeoutOf(usec));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-30000000")]
    [InlineData("30s")]
    [InlineData(" 30000000")]
    public void A_missing_or_malformed_WATCHDOG_USEC_is_no_watchdog(string? usec) =>
        Assert.Null(SystemdWatchdogSetup.TimeoutOf(usec));

    [Fact]
    public async Task Without_WATCHDOG_USEC_the_watchdog_does_no_work_at_all()
    {
        var notifier = new RecordingNotifier();
        var clock = TestClock.Create();
        using var lifetime = new StartedLifetime();
        using var watchdog = new SystemdWatchdog(clock, new LoopHeartbeats(clock), new SystemdWatchdogSetup(null, notifier), lifetime, Microsoft.Extensions.Logging.Abstractions.NullLogger<SystemdWatchdog>.Instance);

        await watchdog.StartAsync(CancellationToken.None);

        // It returns at once (ExecuteAsync runs on the thread pool since .NET 10, hence the wait).
        await watchdog.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(watchdog.ExecuteTask.IsCompletedSuccessfully);
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty(notifier.Sent);
        await watchdog.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Pings_follow_the_timer_at_half_the_timeout_once_the_host_has_started()
    {
        var notifier = new RecordingNotifier();
        var clock = TestClock.Create();
        using var lifetime = new StartedLifetime();
        using var watchdog = new SystemdWatchdog(clock, new LoopHeartbeats(clock), new SystemdWatchdogSetup(Limit, notifier), lifetime, Microsoft.Extensions.Logging.Abstractions.NullLogger<SystemdWatchdog>.Instance);

        await watchdog.StartAsync(CancellationToken.None);
        Assert.Empty(notifier.Sent);
        lifetime.Started();
        await Eventually.UntilAsync(() => watchdog.Pings == 1, "the first ping once started");
        for (var i = 2; i <= 4; i++)
        {
            // Each advance is one tick: wait for its ping before the next (timers fire on the advance).
            clock.Advance(Limit / 2);
            await Eventually.UntilAsync(() => watchdog.Pings == i, $"ping {i}");
        }

        Assert.All(notifier.Sent, m => Assert.Equal("WATCHDOG=1", m));
        await watchdog.StopAsync(CancellationToken.None);
    }

    /// <summary>
    /// The whole agent in-process on simulated hardware, no broker (its loops wait for one: alive),
    /// and a DC monitor whose I2C read hangs: the pings stop while the host is up, the log names
    /// the sensor once, and they resume when the read returns.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_hung_sensor_read_stops_the_pings_while_a_broker_that_is_down_does_not()
    {
        using var data = new TempDirectory();
        var hardware = new SimulatedHardware();
        var part = new SimulatedIna219(1, 0x40, 0.1);
        part.SetLoad(24, 1);
        var hanging = hardware.I2c.Attach(1, 0x40, new HangingI2cDevice(part));
        var settings = AgentSettings.Base(data.Path);
        AgentSettings.AddIna219(settings, 0, "dc-hang", 0x40);
        settings["Agent:Sensors:0:SampleInterval"] = "00:00:00.050";
        var notifier = new RecordingNotifier();
        var logs = new CapturingLogger();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging(l => l.AddProvider(logs));
        builder.Services.AddEdgeAgent(builder.Configuration, hardware.ToAgentHardware());
        builder.Services.AddSingleton(new SystemdWatchdogSetup(TimeSpan.FromSeconds(1), notifier));
        builder.Services.AddHostedService<SystemdWatchdog>();
        using var host = builder.Build();
        await host.StartAsync();
        var watchdog = host.Services.GetServices<IHostedService>().OfType<SystemdWatchdog>().Single();
        try
        {
            // No broker listens on the port: the sender waits for a connection, which is progress.
            // A whole second of work without a wait is stuck: room for an outbox fsync on a busy CI disk.
            await Eventually.UntilAsync(() => watchdog.Pings >= 3 && hanging.Reads >= 3, "pings while the broker is down and the sensor reads");
            Assert.Equal(0, watchdog.Withheld);

            hanging.Hang();
            await hanging.Entered.WaitAsync(TimeSpan.FromSeconds(10));
            await Eventually.UntilAsync(() => watchdog.Withheld >= 1, "the ping withheld");
            var pings = watchdog.Pings;
            await Eventually.UntilAsync(() => watchdog.Withheld >= 3, "more ticks while the read hangs");
            Assert.Equal(pings, watchdog.Pings);
            Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host stopped: the watchdog must leave that to systemd");
            var withheld = Assert.Single(logs.Messages, m => m.Contains("withholding WATCHDOG=1", StringComparison.Ordinal));
            Assert.Contains("sensor dc-hang (dc)", withheld, StringComparison.Ordinal);
            Assert.DoesNotContain("publish:", withheld, StringComparison.Ordinal);

            hanging.Release();
            await Eventually.UntilAsync(() => watchdog.Pings > pings, "pings again once the read returned");
            Assert.Contains(logs.Messages, m => m.Contains("makes progress again", StringComparison.Ordinal));
        }
        finally
        {
            hanging.Release();
            await host.StopAsync();
        }
    }

    /// <summary>
    /// The simulated agent as systemd runs it: a child of "systemd", NOTIFY_SOCKET and WATCHDOG_USEC
    /// set. It says READY=1, then WATCHDOG=1 again and again (no broker: its loops wait, alive).
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Under_a_fake_systemd_the_agent_says_READY_then_WATCHDOG_repeatedly()
    {
        await using var systemd = new FakeSystemd();
        using var data = new TempDirectory();
        await using var agent = ChildProcess.Start("simulated-agent", systemd.Launcher,
            FakeSystemd.ChildOf("dotnet", [Path.Combine(AppContext.BaseDirectory, "simulated-agent.dll"), $"--Agent:DataDirectory={data.Path}", "--Agent:Broker:Port=1"]),
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = systemd.SocketPath, ["WATCHDOG_USEC"] = "300000" });

        await systemd.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
        for (var i = 0; i < 3; i++)
        {
            var between = await systemd.WaitForAsync("WATCHDOG=1", TimeSpan.FromSeconds(10));
            Assert.Empty(between);
        }
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        private readonly List<string> _sent = [];

        public bool IsEnabled => true;

        public IReadOnlyList<string> Sent
        {
            get
            {
                lock (_sent)
                {
                    return _sent.ToList();
                }
            }
        }

        public void Notify(ServiceState state)
        {
            lock (_sent)
            {
                _sent.Add(state.ToString());
            }
        }
    }

    private sealed class StartedLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _started = new();
        private readonly CancellationTokenSource _stopping = new();
        private readonly CancellationTokenSource _stopped = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => _stopped.Token;

        public void Started() => _started.Cancel();

        public void StopApplication() => _stopping.Cancel();

        public void Dispose()
        {
            _started.Dispose();
            _stopping.Dispose();
            _stopped.Dispose();
        }
    }

    /// <summary>An I2C part whose transfers block (a hung bus) from <see cref="Hang"/> until <see cref="Release"/>.</summary>
    private sealed class HangingI2cDevice(I2cDevice part) : I2cDevice
    {
        private readonly ManualResetEventSlim _open = new(true);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _reads;

        public override I2cConnectionSettings ConnectionSettings => part.ConnectionSettings;

        public long Reads => Interlocked.Read(ref _reads);

        public Task Entered => _entered.Task;

        public void Hang() => _open.Reset();

        public void Release() => _open.Set();

        public override void Read(Span<byte> buffer)
        {
            Block();
            part.Read(buffer);
            Interlocked.Increment(ref _reads);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Block();
            part.Write(buffer);
        }

        public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
        {
            Block();
            part.WriteRead(writeBuffer, readBuffer);
            Interlocked.Increment(ref _reads);
        }

        private void Block()
        {
            if (!_open.IsSet)
            {
                _entered.TrySetResult();
                _open.Wait();
            }
        }
    }

    private sealed class CapturingLogger : ILoggerProvider
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return _messages.ToList();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLogger owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._messages)
                {
                    owner._messages.Add(formatter(state, exception));
                }
            }
        }
    }
}

using System.Net;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Broker.Transport;
using NewTechPark.Edge.Collector.Metrics;

namespace NewTechPark.Edge.Collector.Tests.Broker;

/// <summary>A flood of refused sockets is counted in full and logged once per address per interval.</summary>
public sealed class TransportRefusalsTests
{
    [Fact]
    public void Every_refusal_is_counted_and_an_address_is_logged_once_per_interval_with_how_many_it_hid()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var metrics = new CollectorMetrics();
        var log = new LinesLogger();
        var refusals = new TransportRefusals(metrics, clock, log);
        var flooder = IPAddress.Parse("10.0.0.66");

        for (var i = 0; i < 1000; i++)
        {
            refusals.Refuse(flooder, "connection", "too_many_from_address", "cap");
        }

        refusals.Refuse(IPAddress.Parse("10.0.0.7"), "connect", "connect_timeout", "slow");
        clock.Advance(TransportRefusals.LogInterval);
        refusals.Refuse(flooder, "connection", "too_many_from_address", "cap");

        Assert.Equal(1001, metrics.BrokerRefused.WithLabels("connection", "too_many_from_address").Value);
        Assert.Equal(1, metrics.BrokerRefused.WithLabels("connect", "connect_timeout").Value);
        Assert.Equal(3, log.Lines.Count);
        Assert.Contains("999 more refusals from this address", log.Lines[2], StringComparison.Ordinal);
    }

    private sealed class LinesLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}

using Prometheus;

namespace NewTechPark.Edge.Collector.Metrics;

/// <summary>The collector's Prometheus metrics, in a registry of its own (several collectors can share a test process).</summary>
public sealed class CollectorMetrics
{
    public CollectorMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Messages = factory.CreateCounter("ntp_ingest_messages_total", "MQTT messages handled by the ingest, by outcome.", "outcome");
        Readings = factory.CreateCounter("ntp_ingest_readings_total", "Readings stored.");
        Rejected = factory.CreateCounter("ntp_ingest_rejected_total", "Messages refused, by the contract rule they broke.", "rule");
        CommitSeconds = factory.CreateHistogram("ntp_ingest_commit_seconds", "Time to commit one group of messages.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        CommitFailures = factory.CreateCounter("ntp_ingest_commit_failures_total", "Commits that failed (and were retried).");
        BrokerDropped = factory.CreateCounter("ntp_broker_dropped_messages_total", "Messages the embedded broker dropped from a full client queue.");
        BrokerRefused = factory.CreateCounter("ntp_broker_refused_total", "Connections, publishes and subscriptions the embedded broker refused, by action and reason.", "action", "reason");
        StreamEventsDropped = factory.CreateCounter("ntp_stream_dropped_events_total", "Live events no stream client got: the fan-out queue was full.");
        Occupancy = factory.CreateGauge("ntp_occupancy_people", "People in a room now.", "room");
        OccupancyDrift = factory.CreateCounter("ntp_occupancy_drift_total", "People counted out of a room that was already empty.", "room");
        // Bounded queues and streams.
        IngestDropped = factory.CreateCounter("ntp_ingest_dropped_total", "QoS 0 messages dropped before the ingest, by reason (queue_full).", "reason");
        IngestWaits = factory.CreateCounter("ntp_ingest_queue_waits_total", "QoS 1 publishes that found the ingest queue full and waited, by outcome (admitted, timed_out).", "outcome");
        IngestQueueMessages = factory.CreateGauge("ntp_ingest_queue_messages", "Messages waiting to be committed.");
        IngestQueueBytes = factory.CreateGauge("ntp_ingest_queue_bytes", "Payload bytes of the messages waiting to be committed.");
        StreamClients = factory.CreateGauge("ntp_stream_clients", "Clients connected to /api/v1/stream.");
        StreamClientsDropped = factory.CreateCounter("ntp_stream_clients_dropped_total", "Stream clients dropped, by reason (slow: their buffer was full).", "reason");
        StreamRefused = factory.CreateCounter("ntp_stream_refused_total", "Stream clients refused, by reason (per_address: 429, total: 503).", "reason");
    }

    public CollectorRegistry Registry { get; }

    public Counter Messages { get; }

    public Counter Readings { get; }

    public Counter Rejected { get; }

    public Histogram CommitSeconds { get; }

    public Counter CommitFailures { get; }

    public Counter BrokerDropped { get; }

    /// <summary>Refused by the embedded broker: action connect/publish/subscribe, reason such as bad_credentials or not_authorized.</summary>
    public Counter BrokerRefused { get; }

    public Counter StreamEventsDropped { get; }

    public Gauge Occupancy { get; }

    public Counter OccupancyDrift { get; }

    public Counter IngestDropped { get; }

    public Counter IngestWaits { get; }

    public Gauge IngestQueueMessages { get; }

    public Gauge IngestQueueBytes { get; }

    public Gauge StreamClients { get; }

    public Counter StreamClientsDropped { get; }

    public Counter StreamRefused { get; }
}

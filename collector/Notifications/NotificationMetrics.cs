using NewTechPark.Edge.Collector.Metrics;
using Prometheus;

namespace NewTechPark.Edge.Collector.Notifications;

/// <summary>Webhook notifications on <c>/metrics</c>, in the collector's registry.</summary>
public sealed class NotificationMetrics
{
    public NotificationMetrics(CollectorMetrics metrics)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        Sent = factory.CreateCounter("ntp_notifications_sent_total", "Notifications a webhook accepted (2xx), by webhook, event and state (firing, resolved).", "webhook", "event", "state");
        Failed = factory.CreateCounter("ntp_notifications_failed_total", "Notifications given up (attempts used up, or refused with a 4xx), by webhook and event.", "webhook", "event");
        Dropped = factory.CreateCounter("ntp_notifications_dropped_total", "Notifications dropped unsent because the webhook's queue was full, by webhook and event.", "webhook", "event");
        Retries = factory.CreateCounter("ntp_notifications_retries_total", "Deliveries tried again after an error, a timeout, 408, 429 or 5xx, by webhook.", "webhook");
        Queued = factory.CreateGauge("ntp_notifications_queued", "Notifications waiting for a webhook.", "webhook");
        Conditions = factory.CreateGauge("ntp_notifications_conditions", "Conditions holding at the last check, by event.", "event");
    }

    public Counter Sent { get; }

    public Counter Failed { get; }

    public Counter Dropped { get; }

    public Counter Retries { get; }

    public Gauge Queued { get; }

    public Gauge Conditions { get; }
}

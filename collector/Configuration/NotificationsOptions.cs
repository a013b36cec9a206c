using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Contracts.Configuration;
using NewTechPark.Edge.Collector.Notifications;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Webhook notifications (<c>Collector:Notifications</c>): what counts as a problem, and where to say so.</summary>
public sealed class NotificationsOptions
{
    /// <summary>How often the conditions are checked (rooms, devices, door beams, disk).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A device counts as offline for a notification once it has been offline (last will, or silent) this long.</summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The data directory's disk is low below this share of its size (percent); also below <c>Collector:Health:DiskUnhealthyBytes</c>.</summary>
    [Range(1, 99)]
    public int DiskFreeBelowPercent { get; set; } = 10;

    /// <summary>Where to post; none by default (nothing is sent).</summary>
    public List<WebhookOptions> Webhooks { get; set; } = [];
}

/// <summary>One webhook: a URL that gets a JSON POST per notification.</summary>
public sealed class WebhookOptions
{
    /// <summary>Shown in logs and metrics instead of the URL (which may hold a secret); default <c>webhook-N</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Absolute http or https URL (a Slack, Mattermost or Discord incoming webhook, ntfy, or your own receiver).</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>The events this webhook gets (<see cref="NotificationEvents.All"/>); empty: all of them.</summary>
    public List<string> Events { get; set; } = [];

    /// <summary>After a notification for a room, device, door or disk, no second one for the same thing and event comes before this has passed.</summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Also send a notification when the condition clears.</summary>
    public bool SendResolved { get; set; } = true;

    /// <summary>Extra request headers (such as <c>Authorization</c> for ntfy); never logged.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];

    /// <summary>When set, each request carries <c>X-NTP-Signature: sha256=HEX</c>, the HMAC-SHA256 of <c>{X-NTP-Timestamp}.{body}</c> with this key; never logged.</summary>
    public string? Secret { get; set; }

    /// <summary>One request's time limit.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Tries per notification (the first and the retries) before it is given up.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The first retry's wait; it doubles (with jitter) up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Notifications waiting for this webhook, at most; past it the oldest is dropped (counted in <c>ntp_notifications_dropped_total</c>).</summary>
    public int QueueCapacity { get; set; } = 100;
}

/// <summary>The notification settings' rules: URLs, event names, durations, headers.</summary>
public sealed class NotificationsOptionsValidator(IConfiguration configuration) : IValidateOptions<CollectorOptions>
{
    public const int MaxWebhooks = 20;

    // Headers the request itself sets: a setting may not replace them.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection", "X-NTP-Signature", "X-NTP-Timestamp",
    };

    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var o = options.Notifications;
        var errors = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                errors.Add(problem);
            }
        }

        const string at = "Collector:Notifications";
        Check(o.CheckInterval >= TimeSpan.FromSeconds(1) && o.CheckInterval <= TimeSpan.FromMinutes(10), $"{at}:CheckInterval must be between 00:00:01 and 00:10:00, not {o.CheckInterval}");
        Check(o.OfflineAfter >= TimeSpan.FromMinutes(1) && o.OfflineAfter <= TimeSpan.FromDays(7), $"{at}:OfflineAfter must be between 00:01:00 and 7.00:00:00, not {o.OfflineAfter}");
        Check(o.Webhooks.Count <= MaxWebhooks, $"{at}:Webhooks has {o.Webhooks.Count} entries, at most {MaxWebhooks}");
        // The binder leaves out a list item with a value it cannot convert, silently: bind each
        // entry alone to name the value, so a typo in one webhook never turns it off unseen.
        var entries = configuration.GetSection($"{at}:Webhooks").GetChildren().ToList();
        foreach (var entry in entries)
        {
            try
            {
                entry.Get<WebhookOptions>();
            }
            catch (InvalidOperationException e) when (BindingError.Explain(e) is { } problem)
            {
                errors.Add(problem);
            }
        }

        if (errors.Count > 0 || entries.Count != o.Webhooks.Count)
        {
            Check(entries.Count == o.Webhooks.Count, $"{at}:Webhooks: {entries.Count - o.Webhooks.Count} of {entries.Count} entries could not be read; number them 0, 1, 2, …");
            return ValidateOptionsResult.Fail(errors);
        }

        for (var i = 0; i < o.Webhooks.Count; i++)
        {
            var w = o.Webhooks[i];
            var p = $"{at}:Webhooks:{i}";
            // The URL may hold a secret (Slack's and Mattermost's do): never repeat it.
            Check(Uri.TryCreate(w.Url, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(url.Host),
                $"{p}:Url must be an absolute http:// or https:// URL");
            Check(w.Name is null || (w.Name.Length is >= 1 and <= 64 && w.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')),
                $"{p}:Name must be 1-64 letters, digits, '-', '_' or '.'");
            for (var e = 0; e < w.Events.Count; e++)
            {
                Check(NotificationEvents.All.Contains(w.Events[e]), $"{p}:Events:{e} '{w.Events[e]}' is not an event; use {string.Join(", ", NotificationEvents.All)}");
            }

            Check(w.QuietPeriod >= TimeSpan.Zero && w.QuietPeriod <= TimeSpan.FromDays(7), $"{p}:QuietPeriod must be between 00:00:00 and 7.00:00:00, not {w.QuietPeriod}");
            Check(w.Timeout >= TimeSpan.FromSeconds(1) && w.Timeout <= TimeSpan.FromMinutes(2), $"{p}:Timeout must be between 00:00:01 and 00:02:00, not {w.Timeout}");
            Check(w.MaxAttempts is >= 1 and <= 100, $"{p}:MaxAttempts must be 1-100, not {w.MaxAttempts}");
            Check(w.RetryMinDelay >= TimeSpan.FromMilliseconds(10) && w.RetryMinDelay <= TimeSpan.FromMinutes(10), $"{p}:RetryMinDelay must be between 00:00:00.010 and 00:10:00, not {w.RetryMinDelay}");
            Check(w.RetryMaxDelay >= w.RetryMinDelay && w.RetryMaxDelay <= TimeSpan.FromHours(6), $"{p}:RetryMaxDelay must be at least RetryMinDelay and at most 06:00:00, not {w.RetryMaxDelay}");
            Check(w.QueueCapacity is >= 1 and <= 10_000, $"{p}:QueueCapacity must be 1-10000, not {w.QueueCapacity}");
            Check(w.Secret is null || w.Secret.Length is >= 16 and <= 512, $"{p}:Secret must be 16-512 characters (or unset)");
            foreach (var (header, value) in w.Headers)
            {
                // The value is not repeated: it is often a token.
                Check(header.Length is >= 1 and <= 100 && header.All(IsTokenChar) && !ReservedHeaders.Contains(header),
                    $"{p}:Headers:{header} is not a header name a setting may set (a token, not Content-Type, Host or the signature's)");
                Check(value.Length <= 4096 && value.All(c => c is >= ' ' and <= '~'), $"{p}:Headers:{header} must be at most 4096 characters of printable ASCII");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}

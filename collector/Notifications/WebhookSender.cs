using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Contracts.Resilience;

namespace NewTechPark.Edge.Collector.Notifications;

/// <summary>
/// Delivers one webhook's notifications in order: a bounded queue (the oldest dropped when full,
/// counted, so a checker never waits), one POST at a time with a time limit, retried with
/// exponential backoff and jitter on a network error, a timeout, 408, 429 or 5xx, given up after
/// <c>MaxAttempts</c> or on any other answer. Redirects are not followed. The URL, the headers and
/// the secret are never logged: the webhook is named by its <c>Name</c> and host. Its clock is
/// the real one in the collector (timeouts and backoff wait for the network).
/// </summary>
public sealed class WebhookSender : IAsyncDisposable
{
    public const string SignatureHeader = "X-NTP-Signature";
    public const string TimestampHeader = "X-NTP-Timestamp";

    private readonly WebhookOptions _options;
    private readonly HttpClient _http;
    private readonly NotificationMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Channel<Notification> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Uri _url;
    private Task? _loop;
    private long _queued;
    private long _enqueued;

    public WebhookSender(string name, WebhookOptions options, HttpClient http, NotificationMetrics metrics, TimeProvider clock, ILogger logger)
    {
        Name = name;
        _options = options;
        _http = http;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        _url = new Uri(options.Url, UriKind.Absolute);
        Rules = new QuietPeriodRules(options.Events, options.QuietPeriod, options.SendResolved);
        _queue = Channel.CreateBounded<Notification>(
            new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                Interlocked.Decrement(ref _queued);
                _metrics.Dropped.WithLabels(Name, dropped.Event).Inc();
                _logger.LogWarning("Webhook {Webhook}: queue full ({Capacity}), dropped the oldest notification ({Event} {Subject})", Name, _options.QueueCapacity, dropped.Event, dropped.Subject);
            });
    }

    public string Name { get; }

    /// <summary>Which conditions become notifications for this webhook (used by the checker's thread only).</summary>
    public QuietPeriodRules Rules { get; }

    /// <summary>Notifications waiting (not counting one being sent).</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Notifications handed to this webhook since start.</summary>
    public long Enqueued => Interlocked.Read(ref _enqueued);

    /// <summary>Queues a notification: never waits; when the queue is full the oldest goes (counted).</summary>
    public void Enqueue(Notification notification)
    {
        Interlocked.Increment(ref _enqueued);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(notification))
        {
            // Only after the sender stopped.
            Interlocked.Decrement(ref _queued);
        }

        _metrics.Queued.WithLabels(Name).Set(Queued);
    }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stopping.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var notification in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Decrement(ref _queued);
                _metrics.Queued.WithLabels(Name).Set(Queued);
                await DeliverAsync(notification, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(Notification notification, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(notification, NotificationJson.Body.Notification);
        var backoff = new Backoff(_options.RetryMinDelay, _options.RetryMaxDelay, _clock);
        for (var attempt = 1; ; attempt++)
        {
            var (outcome, problem, retryAfter) = await PostAsync(body, cancellationToken).ConfigureAwait(false);
            if (outcome == Outcome.Delivered)
            {
                _metrics.Sent.WithLabels(Name, notification.Event, notification.State).Inc();
                _logger.LogInformation("Webhook {Webhook}: sent {Event} {State} for {Subject}", Name, notification.Event, notification.State, notification.Subject);
                return;
            }

            if (outcome == Outcome.GiveUp || attempt >= _options.MaxAttempts)
            {
                _metrics.Failed.WithLabels(Name, notification.Event).Inc();
                _logger.LogWarning("Webhook {Webhook} ({Host}): gave up on {Event} for {Subject} after {Attempts} attempt(s): {Problem}",
                    Name, _url.Host, notification.Event, notification.Subject, attempt, problem);
                return;
            }

            _metrics.Retries.WithLabels(Name).Inc();
            var wait = backoff.Next();
            if (retryAfter is { } asked && asked > wait)
            {
                // A receiver that says when (429, 503) is believed, within the longest wait.
                wait = asked < _options.RetryMaxDelay ? asked : _options.RetryMaxDelay;
            }

            _logger.LogInformation("Webhook {Webhook} ({Host}): {Problem}; attempt {Attempt} of {Max} in {Wait:0.0} s",
                Name, _url.Host, problem, attempt + 1, _options.MaxAttempts, wait.TotalSeconds);
            await Task.Delay(wait, _clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(Outcome Outcome, string Problem, TimeSpan? RetryAfter)> PostAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        foreach (var (header, value) in _options.Headers)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        if (_options.Secret is { } secret)
        {
            var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            request.Headers.TryAddWithoutValidation(TimestampHeader, timestamp);
            request.Headers.TryAddWithoutValidation(SignatureHeader, "sha256=" + Sign(secret, timestamp, body));
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
            {
                return (Outcome.Delivered, string.Empty, null);
            }

            var retry = status is 408 or 429 || status >= 500;
            var after = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - _clock.GetUtcNow(),
                _ => (TimeSpan?)null,
            };
            return (retry ? Outcome.Retry : Outcome.GiveUp, $"the receiver answered {status} {response.ReasonPhrase}", after);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (Outcome.Retry, $"no answer within {_options.Timeout.TotalSeconds:0.#} s", null);
        }
        catch (HttpRequestException e)
        {
            // The message names the host and the socket error, not the path or query.
            return (Outcome.Retry, e.HttpRequestError == HttpRequestError.Unknown ? "the request failed" : $"the request failed ({e.HttpRequestError})", null);
        }
    }

    /// <summary>HMAC-SHA256 of <c>{timestamp}.{body}</c>, lower-case hex: what a receiver recomputes to check the sender and the time.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        var n = Encoding.UTF8.GetBytes(timestamp, signed);
        signed[n] = (byte)'.';
        body.CopyTo(signed.AsSpan(n + 1));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Stops sending: what is queued is let go.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private enum Outcome
    {
        Delivered,
        Retry,
        GiveUp,
    }
}

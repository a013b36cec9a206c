using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Collector.Tests.Notifications;

/// <summary>A request the receiver got: its path and query, headers and body.</summary>
public sealed record ReceivedRequest(string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real webhook receiver for tests: Kestrel on 127.0.0.1 and a port of the test's choosing.
/// <see cref="Respond"/> picks each answer (by attempt number, from 1) and may wait before it.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _attempts;

    private WebhookReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A URL with a secret in its path and query, as chat tools' incoming webhooks have.</summary>
    public string Url => $"http://127.0.0.1:{Port}/hooks/SECRET-PATH-TOKEN?key=SECRET-QUERY";

    /// <summary>Every request that reached the receiver, delivered or answered with an error.</summary>
    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>Requests answered 2xx.</summary>
    public ConcurrentQueue<ReceivedRequest> Delivered { get; } = new();

    /// <summary>The status code for the attempt with this number (from 1); 200 unless a test says otherwise.</summary>
    public Func<int, Task<int>> Respond { get; set; } = _ => Task.FromResult(200);

    public int Attempts => Volatile.Read(ref _attempts);

    public static async Task<WebhookReceiver> StartAsync(int? port = null)
    {
        var p = port ?? FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{p}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, p);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var request = new ReceivedRequest(context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body);
        Requests.Enqueue(request);
        var status = await Respond(Interlocked.Increment(ref _attempts));
        if (status is >= 200 and < 300)
        {
            Delivered.Enqueue(request);
        }

        context.Response.StatusCode = status;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

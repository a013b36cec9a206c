using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Api;

public static class StreamApi
{
    /// <summary>What a refused client is told to wait before it tries again.</summary>
    public const int RetryAfterSeconds = 10;

    /// <summary>Bytes written between flushes, at most: a client that does not read holds no more than this in the server's send buffer.</summary>
    private const int FlushBytes = 64 * 1024;

    /// <summary><c>GET /api/v1/stream</c>: server-sent events named occupancy, capacity, reading and device.</summary>
    public static RouteGroupBuilder MapStreamApi(this RouteGroupBuilder api)
    {
        api.MapGet("/stream", StreamAsync)
            .WithName("GetStream").WithSummary("Live events: readings, occupancy changes and device state, as server-sent events.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }

    /// <summary>
    /// Writes what the client's buffer holds in one go per flush. The stream ends when the client
    /// goes, when it falls too far behind (dropped by the hub: the connection is closed), and when
    /// the collector stops, so a shutdown does not wait for open streams.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, LiveEventHub hub, StreamClients clients, IHostApplicationLifetime lifetime,
        IOptions<JsonOptions> json, IOptions<CollectorOptions> options, SiteModel site)
    {
        var address = ClientAddress.Of(context);
        var refusal = clients.TryAdmit(address);
        if (refusal != StreamRefusal.None)
        {
            await RefuseAsync(context, refusal, options.Value.Stream).ConfigureAwait(false);
            return;
        }

        try
        {
            using var subscription = hub.Subscribe(site.Site);
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping, subscription.Dropped);
            var token = ending.Token;
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache,no-store";
            response.Headers.Pragma = "no-cache";
            response.Headers.ContentEncoding = "identity";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var serializer = json.Value.SerializerOptions;
            var writer = response.BodyWriter;
            var flushing = false;
            try
            {
                // The headers go at once, so the client knows it is connected before the first event.
                await response.StartAsync(token).ConfigureAwait(false);
                flushing = true;
                await writer.FlushAsync(token).ConfigureAwait(false);
                flushing = false;
                while (await subscription.WaitAsync(token).ConfigureAwait(false))
                {
                    var pending = 0;
                    while (subscription.TryTake(out var batch))
                    {
                        var bytes = batch.Sse(serializer);
                        while (!bytes.IsEmpty)
                        {
                            var part = Math.Min(bytes.Length, FlushBytes - pending);
                            writer.Write(bytes.Span[..part]);
                            bytes = bytes[part..];
                            pending += part;
                            if (pending >= FlushBytes)
                            {
                                flushing = true;
                                await writer.FlushAsync(token).ConfigureAwait(false);
                                flushing = false;
                                pending = 0;
                            }
                        }
                    }

                    if (pending > 0)
                    {
                        flushing = true;
                        await writer.FlushAsync(token).ConfigureAwait(false);
                        flushing = false;
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }

            // Dropped, or stopping while a write waited on a client that does not read: close the
            // connection rather than wait for it (the browser's EventSource reconnects).
            if (subscription.IsDropped || (flushing && !context.RequestAborted.IsCancellationRequested))
            {
                context.Abort();
            }
        }
        finally
        {
            clients.Release(address);
        }
    }

    private static Task RefuseAsync(HttpContext context, StreamRefusal refusal, StreamOptions stream)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return (refusal == StreamRefusal.PerAddress
            ? TypedResults.Problem(title: "too many streams from this address",
                detail: $"This address has {stream.MaxClientsPerAddress} live streams open, the most allowed (Collector:Stream:MaxClientsPerAddress); close one, or try again in {RetryAfterSeconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests)
            : TypedResults.Problem(title: "too many streams",
                detail: $"The collector serves {stream.MaxClients} live streams, the most allowed (Collector:Stream:MaxClients); try again in {RetryAfterSeconds} s.",
                statusCode: StatusCodes.Status503ServiceUnavailable)).ExecuteAsync(context);
    }
}

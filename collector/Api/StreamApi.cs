using System.Net.ServerSentEvents;
using NewTechPark.Edge.Collector.Live;

namespace NewTechPark.Edge.Collector.Api;

public static class StreamApi
{
    /// <summary><c>GET /api/v1/stream</c>: server-sent events named occupancy, reading and device.</summary>
    public static RouteGroupBuilder MapStreamApi(this RouteGroupBuilder api)
    {
        api.MapGet("/stream", (LiveEventHub hub, HttpContext context) =>
                TypedResults.ServerSentEvents(Events(hub, context.RequestAborted)))
            .WithName("GetStream").WithSummary("Live events: readings, occupancy changes and device state, as server-sent events.");
        return api;
    }

    private static async IAsyncEnumerable<SseItem<LiveEvent>> Events(LiveEventHub hub, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in hub.SubscribeAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new SseItem<LiveEvent>(e, e.Type);
        }
    }
}

namespace NewTechPark.Edge.Collector.Notifications;

/// <summary>
/// One webhook's rules: which conditions become notifications, and when. A condition that starts
/// is sent at once, unless a notification for the same event and subject went out less than the
/// quiet period ago: then it is sent when the quiet period has passed, if it still holds. A
/// condition that holds stays quiet (one message per episode); when it clears, a "resolved"
/// notification goes out if its start was sent. Pure and single-threaded: the caller gives the
/// time and the conditions of one check.
/// </summary>
public sealed class QuietPeriodRules(IReadOnlyCollection<string> events, TimeSpan quietPeriod, bool sendResolved)
{
    private readonly HashSet<string> _events = events.Count == 0 ? [.. NotificationEvents.All] : [.. events];
    private readonly Dictionary<(string Event, string Subject), Episode> _episodes = [];

    /// <summary>Episodes known (holding now, or cleared and within their quiet period).</summary>
    public int Tracked => _episodes.Count;

    /// <summary>The notifications that one check's conditions call for, at <paramref name="now"/>.</summary>
    public List<(Condition Condition, string State)> Check(IEnumerable<Condition> conditions, DateTimeOffset now)
    {
        var send = new List<(Condition, string)>();
        var holding = new HashSet<(string, string)>();
        foreach (var c in conditions)
        {
            if (!_events.Contains(c.Event))
            {
                continue;
            }

            var key = (c.Event, c.Subject);
            holding.Add(key);
            if (!_episodes.TryGetValue(key, out var episode))
            {
                episode = new Episode();
                _episodes[key] = episode;
            }

            if (!episode.Holds)
            {
                episode.Holds = true;
                episode.Sent = false;
            }

            episode.Condition = c;
            if (!episode.Sent && (episode.LastSent is not { } last || now - last >= quietPeriod))
            {
                episode.Sent = true;
                episode.LastSent = now;
                send.Add((c, Notification.Firing));
            }
        }

        foreach (var (key, episode) in _episodes.ToList())
        {
            if (holding.Contains(key))
            {
                continue;
            }

            if (episode.Holds)
            {
                episode.Holds = false;
                if (episode.Sent && sendResolved && episode.Condition is { } c)
                {
                    send.Add((c, Notification.Resolved));
                }

                episode.Sent = false;
            }

            // Forget a cleared episode once its quiet period is over: the state stays bounded.
            if (episode.LastSent is not { } last || now - last >= quietPeriod)
            {
                _episodes.Remove(key);
            }
        }

        return send;
    }

    private sealed class Episode
    {
        public bool Holds { get; set; }

        public bool Sent { get; set; }

        public DateTimeOffset? LastSent { get; set; }

        public Condition? Condition { get; set; }
    }
}

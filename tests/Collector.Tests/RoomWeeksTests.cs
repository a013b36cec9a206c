using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Tests.Http;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>Week over week (<c>GET /api/v1/occupancy/weeks</c>): a room's week against the week before, from the stored day sums.</summary>
public sealed class RoomWeeksTests : IDisposable
{
    // Thursday 18 June 2026, 15:00 in Apeldoorn: this week began on Monday 15 June, last week on 8 June.
    private static readonly DateTimeOffset Now = new(2026, 6, 18, 15, 0, 0, TimeSpan.FromHours(2));

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DateTimeOffset At(int day, int hour) => new(2026, 6, day, hour, 0, 0, TimeSpan.FromHours(2));

    [Fact]
    public void This_week_is_compared_with_last_week_up_to_the_same_day()
    {
        using var store = Store(_dir);
        // Last week: Tuesday 10-11 two people in the lab; Friday 10-14 four.
        // This week: Tuesday 10-12 three; Wednesday 10-11 five.
        store.Commit([Batch("pi-entrance", 1, Now,
            Door(DoorMain, At(9, 9), 20, 0, 20, 0),
            Door(DoorLab, At(9, 10), 2, 0, 2, 0),
            Door(DoorLab, At(9, 11), 0, 2, 2, 2),
            Door(DoorLab, At(12, 10), 4, 0, 6, 2),
            Door(DoorLab, At(12, 14), 0, 4, 6, 6),
            Door(DoorMain, At(16, 9), 20, 0, 40, 0),
            Door(DoorLab, At(16, 10), 3, 0, 9, 6),
            Door(DoorLab, At(16, 12), 0, 3, 9, 9),
            Door(DoorLab, At(17, 10), 5, 0, 14, 9),
            Door(DoorLab, At(17, 11), 0, 5, 14, 14))]);
        var clock = new FakeTimeProvider(Now);
        var history = new OccupancyHistory(store, SmallSite, Options.Create(new CollectorOptions()), clock);
        var weeks = new RoomWeeks(store, SmallSite, history, clock);

        var view = weeks.Compare(weeks.Today, null);
        Assert.Equal(new DateOnly(2026, 6, 15), view.WeekStart);
        Assert.Equal(new DateOnly(2026, 6, 8), view.LastWeekStart);
        Assert.Equal(4, view.DaysSoFar);
        Assert.Equal([Hall, Lab, Room], view.Rooms.Select(r => r.Room));

        var lab = view.Rooms.Single(r => r.Room == Lab);
        Assert.Equal(3, lab.ThisWeek.HoursInUse);
        Assert.Equal(5, lab.ThisWeek.Peak);
        Assert.Equal(8, lab.ThisWeek.Entries);
        Assert.Equal(7, lab.ThisWeek.Days.Count);
        Assert.Equal(2, lab.ThisWeek.Days[1].HoursInUse);
        Assert.Equal(3, lab.ThisWeek.Days[1].Peak);
        Assert.Equal(1, lab.ThisWeek.Days[2].HoursInUse);
        Assert.Equal(0, lab.ThisWeek.Days[5].HoursInUse);

        // Last week to the same day (Monday to Thursday) holds Tuesday only; the whole week holds Friday too.
        Assert.Equal(new DateOnly(2026, 6, 11), lab.LastWeekToDate.To);
        Assert.Equal(1, lab.LastWeekToDate.HoursInUse);
        Assert.Equal(2, lab.LastWeekToDate.Peak);
        Assert.Equal(5, lab.LastWeek.HoursInUse);
        Assert.Equal(4, lab.LastWeek.Peak);
        Assert.Equal(6, lab.LastWeek.Entries);
        Assert.Equal(200, lab.ChangePct);

        // A past week is compared whole.
        var past = weeks.Compare(new DateOnly(2026, 6, 10), Lab);
        Assert.Equal(7, past.DaysSoFar);
        Assert.Equal(5, Assert.Single(past.Rooms).ThisWeek.HoursInUse);
        Assert.Null(past.Rooms[0].ChangePct);
    }

    [Fact]
    public async Task The_api_answers_every_room_and_refuses_bad_dates_and_rooms()
    {
        await using var collector = await InProcessCollector.StartAsync();
        var ok = await collector.Http.GetAsync("/api/v1/occupancy/weeks");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var body = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(25, body.GetProperty("rooms").GetArrayLength());
        var first = body.GetProperty("rooms")[0];
        Assert.Equal(7, first.GetProperty("this_week").GetProperty("days").GetArrayLength());
        Assert.True(body.GetProperty("days_so_far").GetInt32() is >= 1 and <= 7);

        var one = JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/occupancy/weeks?room=dc-lab")).RootElement;
        Assert.Equal("dc-lab", one.GetProperty("rooms").EnumerateArray().Single().GetProperty("room").GetString());

        foreach (var (query, status, title) in new[]
        {
            ("date=yesterday", HttpStatusCode.BadRequest, "date is not valid"),
            ("date=2026-13-01", HttpStatusCode.BadRequest, "date is not valid"),
            ($"date={DateTime.UtcNow.AddDays(3):yyyy-MM-dd}", HttpStatusCode.BadRequest, "date is out of range"),
            ("date=1999-01-01", HttpStatusCode.BadRequest, "date is out of range"),
            ("date=0001-01-01", HttpStatusCode.BadRequest, "date is out of range"),
            ("date=9999-12-31", HttpStatusCode.BadRequest, "date is out of range"),
            ("room=no-such-room", HttpStatusCode.NotFound, "no such room"),
        })
        {
            var refused = await collector.Http.GetAsync("/api/v1/occupancy/weeks?" + query);
            Assert.Equal(status, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(title, JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
        }

        Assert.Contains("\"/api/v1/occupancy/weeks\"", await collector.Http.GetStringAsync("/openapi/v1.json"), StringComparison.Ordinal);
    }
}

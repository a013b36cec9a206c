using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Storage.Schema;
using static NewTechPark.Edge.Collector.Tests.IncrementalQueriesTests;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// Migration 3 on a store of the previous schema (version 2, room history built, badge scans kept):
/// the history's day sums come from the hours already built (no day is replayed, so days whose raw
/// door readings are purged keep their figures), the badge days are marked and built, and every
/// figure reads as before.
/// </summary>
public sealed class DerivedFiguresMigrationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public void A_version_2_store_gets_day_sums_from_its_built_hours_and_its_badge_days_marked_with_the_same_figures()
    {
        var clock = new FakeTimeProvider(First.AddDays(Days + 1).AddHours(15));
        var options = Options.Create(new CollectorOptions());
        var whole = (From: First, To: First.AddDays(Days + 1));
        List<RoomHistoryBucket> Figures(OccupancyHistory history) =>
            SmallSite.Rooms.SelectMany(r => history.History(r.Id, whole.From, whole.To, CalendarBucket.Day).Buckets
                .Concat(history.History(r.Id, whole.From, whole.To, CalendarBucket.Month).Buckets)).ToList();
        List<Visitors.BadgeCounts> Badges(Visitors.VisitorsService visitors) =>
            visitors.Badges(visitors.Buckets.Cover(CalendarBucket.Week, whole.From.ToUnixTimeMilliseconds(), whole.To.ToUnixTimeMilliseconds()), null).Values.ToList();

        List<RoomHistoryBucket> before;
        List<Visitors.BadgeCounts> badgesBefore;
        RoomUseSummary useBefore;
        using (var store = Store(_dir))
        {
            var seq = CraftedDoors(store, new Random(7));
            store.Commit([Batch("pi-entrance", seq, First, Enumerable.Range(0, 60).Select(i => VisitorsTests.Scan(First.AddHours(7 * i), $"V{i % 13}")).ToArray())]);
            var history = new OccupancyHistory(store, SmallSite, options, clock);
            history.Update();
            before = Figures(history);
            useBefore = history.Use(whole.From, whole.To);
            badgesBefore = Badges(VisitorsTests.Services(store, SmallSite, clock).Visitors);
        }

        // Back to the previous schema, data kept: what a store written by the collector before migration 3 holds.
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={_dir.File("collector.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                DROP TABLE changed_days; DROP TABLE room_days; DROP TABLE visitor_days; DROP INDEX room_hours_hour;
                ALTER TABLE room_history_days DROP COLUMN aggregated;
                PRAGMA user_version = 2;
                """;
            command.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        using (var store = Store(_dir))
        {
            using (var connection = store.OpenReader())
            {
                Assert.Equal(StoreMigrations.Current, SchemaLedger.Version(connection));
            }

            Assert.NotEmpty(ChangedDays.Read(store, SiteId, ChangedDays.Badge));
            var history = new OccupancyHistory(store, SmallSite, options, clock);
            Assert.Equal(0, history.Refresh()); // summed from the built hours, nothing replayed
            Assert.Equal(before, Figures(history));
            var use = history.Use(whole.From, whole.To);
            Assert.Equal(useBefore.PerRoom, use.PerRoom);
            Assert.Equal(badgesBefore, Badges(VisitorsTests.Services(store, SmallSite, clock).Visitors));
            Assert.Empty(ChangedDays.Read(store, SiteId, ChangedDays.Badge));
        }
    }
}

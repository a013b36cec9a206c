using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>
/// The nine parameters of a rollups row, in the order every statement on that table declares them
/// (<c>$s, $r, $b, $min, $max, $sum, $n, $inc, $resets</c>); one binder so the writer and retention cannot drift.
/// </summary>
internal static class RollupRowParameters
{
    public static readonly string[] ParameterNames = ["$s", "$r", "$b", "$min", "$max", "$sum", "$n", "$inc", "$resets"];

    public static void Bind(SqliteCommand command, long series, Resolution res, long bucket, RollupWriter.Acc acc)
    {
        var p = command.Parameters;
        p[0].Value = series;
        p[1].Value = (int)res;
        p[2].Value = bucket;
        p[3].Value = acc.Min;
        p[4].Value = acc.Max;
        p[5].Value = acc.Sum;
        p[6].Value = acc.Count;
        p[7].Value = acc.Inc;
        p[8].Value = acc.Resets;
    }
}

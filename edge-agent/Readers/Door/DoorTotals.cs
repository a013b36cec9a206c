using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Door;

/// <summary>
/// A door's cumulative in and out totals, read from the agent's state store when a counter starts
/// and written back with every crossing (they reach the disk with the next batch), and the door
/// reading each crossing becomes. Shared by every kind of door counter.
/// </summary>
public sealed class DoorTotals(string sensorId, AgentStateStore state)
{
    public long In { get; private set; } = state.GetCounter(sensorId, ReadingKinds.DoorValues.InTotal);

    public long Out { get; private set; } = state.GetCounter(sensorId, ReadingKinds.DoorValues.OutTotal);

    /// <summary>Counts one crossing and returns its reading: the crossing and both totals.</summary>
    public Reading Count(Crossing crossing, DateTimeOffset at)
    {
        var isIn = crossing == Crossing.In;
        if (isIn)
        {
            In++;
            state.SetCounter(sensorId, ReadingKinds.DoorValues.InTotal, In);
        }
        else
        {
            Out++;
            state.SetCounter(sensorId, ReadingKinds.DoorValues.OutTotal, Out);
        }

        return new Reading
        {
            Ts = at,
            Sensor = sensorId,
            Kind = ReadingKinds.Door,
            Values = new Dictionary<string, double>(4, StringComparer.Ordinal)
            {
                [ReadingKinds.DoorValues.In] = isIn ? 1 : 0,
                [ReadingKinds.DoorValues.Out] = isIn ? 0 : 1,
                [ReadingKinds.DoorValues.InTotal] = In,
                [ReadingKinds.DoorValues.OutTotal] = Out,
            },
        };
    }
}

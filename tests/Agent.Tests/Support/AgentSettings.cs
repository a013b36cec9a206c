namespace NewTechPark.Edge.Agent.Tests.Support;

/// <summary>Key/value settings for <c>SimulatedAgentHost.Create</c>.</summary>
public static class AgentSettings
{
    public static Dictionary<string, string?> Base(string dataDirectory) => new()
    {
        ["Agent:Site"] = "newtechpark",
        ["Agent:Device"] = "pi-test",
        ["Agent:DataDirectory"] = dataDirectory,
        ["Agent:Broker:Host"] = "127.0.0.1",
        ["Agent:Broker:Port"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Agent:Broker:ReconnectMinDelay"] = "00:00:01",
        ["Agent:Broker:ReconnectMaxDelay"] = "00:00:05",
    };

    public static void AddDoor(Dictionary<string, string?> settings, int index, string id, int outerPin, int innerPin)
    {
        settings[$"Agent:Sensors:{index}:Id"] = id;
        settings[$"Agent:Sensors:{index}:Type"] = "door-beams";
        settings[$"Agent:Sensors:{index}:BeamOuterPin"] = outerPin.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings[$"Agent:Sensors:{index}:BeamInnerPin"] = innerPin.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings[$"Agent:Sensors:{index}:Debounce"] = "00:00:00.030";
    }

    public static void AddIna219(Dictionary<string, string?> settings, int index, string id, int address)
    {
        settings[$"Agent:Sensors:{index}:Id"] = id;
        settings[$"Agent:Sensors:{index}:Type"] = "ina219";
        settings[$"Agent:Sensors:{index}:I2cBus"] = "1";
        settings[$"Agent:Sensors:{index}:Address"] = address.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings[$"Agent:Sensors:{index}:SampleInterval"] = "00:00:00.050";
    }
}

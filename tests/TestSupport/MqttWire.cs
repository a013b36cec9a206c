namespace NewTechPark.Edge.TestSupport;

/// <summary>MQTT bytes written by hand, for tests that must send what no client library would (or not all of it).</summary>
public static class MqttWire
{
    /// <summary>The variable-length "remaining length" of a fixed header (MQTT 3.1.1 §2.2.3): 7 bits a byte, high bit = more.</summary>
    public static byte[] RemainingLength(long value)
    {
        var bytes = new List<byte>();
        do
        {
            var encoded = (byte)(value % 128);
            value /= 128;
            bytes.Add(value > 0 ? (byte)(encoded | 0x80) : encoded);
        }
        while (value > 0);
        return [.. bytes];
    }

    /// <summary>An MQTT 3.1.1 CONNECT with user name and password, clean session, keep-alive 60 s.</summary>
    public static byte[] Connect311(string clientId, string user, string password)
    {
        static byte[] Text(string s) => [(byte)(s.Length >> 8), (byte)s.Length, .. System.Text.Encoding.UTF8.GetBytes(s)];
        byte[] body = [.. Text("MQTT"), 0x04, 0xC2, 0x00, 0x3C, .. Text(clientId), .. Text(user), .. Text(password)];
        return [0x10, .. RemainingLength(body.Length), .. body];
    }
}

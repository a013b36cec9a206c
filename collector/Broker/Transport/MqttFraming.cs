namespace NewTechPark.Edge.Collector.Broker.Transport;

/// <summary>Why <see cref="MqttFraming"/> stopped a connection.</summary>
public enum FramingProblem
{
    None,

    /// <summary>A packet announced a remaining length that makes it larger than the limit of its moment.</summary>
    TooLarge,

    /// <summary>The remaining length ran over its four bytes (MQTT's maximum).</summary>
    MalformedLength,

    /// <summary>The first packet is not a CONNECT ([MQTT-3.1.0-1]).</summary>
    NotConnect,
}

/// <summary>
/// Follows MQTT's framing over the bytes of one connection as they arrive: fixed header byte,
/// remaining length (one to four bytes, seven bits each), body skipped. A packet is judged as soon
/// as its last length byte arrives, so MQTTnet (which allocates the whole body at that moment)
/// never sees a length over the limit. Before login every packet gets the small CONNECT limit;
/// once the CONNACK said success, the logged-in limit. Sizes are whole packets (fixed header
/// included), as MQTT 5's Maximum Packet Size counts them.
/// </summary>
public sealed class MqttFraming(int maxConnectPacketBytes, int maxPacketBytes)
{
    private const int MaxLengthBytes = 4;

    private State _state = State.Header;
    private int _length;
    private int _lengthBytes;
    private int _multiplier;
    private int _bodyLeft;
    private volatile bool _loggedIn;

    private enum State
    {
        Header,
        Length,
        Body,
    }

    /// <summary>Set when the broker answered the CONNECT with success; later packets get <c>maxPacketBytes</c>.</summary>
    public bool LoggedIn
    {
        get => _loggedIn;
        set => _loggedIn = value;
    }

    /// <summary>Packets read to their last byte.</summary>
    public long PacketsCompleted { get; private set; }

    /// <summary>Whether the CONNECT has arrived whole (the CONNECT timeout stops then).</summary>
    public bool ConnectComplete => PacketsCompleted > 0;

    public FramingProblem Problem { get; private set; }

    /// <summary>The whole size the refused packet announced (for <see cref="FramingProblem.TooLarge"/>).</summary>
    public long AnnouncedBytes { get; private set; }

    /// <summary>The limit for the packet being read now.</summary>
    public int Limit => LoggedIn && PacketsCompleted > 0 ? maxPacketBytes : maxConnectPacketBytes;

    /// <summary>Follows the next bytes of the connection; false once a packet broke a rule (see <see cref="Problem"/>), and for ever after.</summary>
    public bool Follow(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (Problem == FramingProblem.None && i < bytes.Length)
        {
            switch (_state)
            {
                case State.Header:
                    if (PacketsCompleted == 0 && bytes[i] >> 4 != 1)
                    {
                        Problem = FramingProblem.NotConnect;
                        break;
                    }

                    i++;
                    _state = State.Length;
                    _length = 0;
                    _lengthBytes = 0;
                    _multiplier = 1;
                    break;

                case State.Length:
                    var encoded = bytes[i++];
                    _length += (encoded & 0x7F) * _multiplier;
                    _lengthBytes++;
                    if ((encoded & 0x80) != 0)
                    {
                        if (_lengthBytes == MaxLengthBytes)
                        {
                            Problem = FramingProblem.MalformedLength;
                        }

                        _multiplier *= 128;
                        break;
                    }

                    var whole = 1L + _lengthBytes + _length;
                    if (whole > Limit)
                    {
                        AnnouncedBytes = whole;
                        Problem = FramingProblem.TooLarge;
                    }
                    else if (_length == 0)
                    {
                        Completed();
                    }
                    else
                    {
                        _bodyLeft = _length;
                        _state = State.Body;
                    }

                    break;

                case State.Body:
                    var take = Math.Min(_bodyLeft, bytes.Length - i);
                    i += take;
                    _bodyLeft -= take;
                    if (_bodyLeft == 0)
                    {
                        Completed();
                    }

                    break;
            }
        }

        return Problem == FramingProblem.None;
    }

    private void Completed()
    {
        PacketsCompleted++;
        _state = State.Header;
    }
}

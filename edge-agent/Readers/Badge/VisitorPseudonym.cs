using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace NewTechPark.Edge.Agent.Readers.Badge;

/// <summary>
/// The contract's visitor pseudonym: base64url(HMAC-SHA256(site key, card UID)) cut to 22
/// characters (132 bits). Made inside the badge reader, so a UID never leaves it.
/// </summary>
public sealed class VisitorPseudonym : IDisposable
{
    public const int Length = 22;
    public const int MinimumKeyLength = 16;

    private readonly byte[] _key;

    public VisitorPseudonym(string siteKey)
    {
        if (string.IsNullOrEmpty(siteKey) || siteKey.Length < MinimumKeyLength)
        {
            throw new ArgumentException($"the site key must have at least {MinimumKeyLength} characters", nameof(siteKey));
        }

        _key = Encoding.UTF8.GetBytes(siteKey);
    }

    public string Of(ReadOnlySpan<byte> uid)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, uid, mac);
        var text = Base64Url.EncodeToString(mac);
        CryptographicOperations.ZeroMemory(mac);
        return text[..Length];
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}

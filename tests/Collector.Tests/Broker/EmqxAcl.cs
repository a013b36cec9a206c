using System.Text;
using System.Text.RegularExpressions;

namespace NewTechPark.Edge.Collector.Tests.Broker;

/// <summary>
/// A small interpreter of the subset of EMQX 5's file authorization (<c>acl.conf</c>, Erlang terms)
/// that <c>hardware/emqx/acl.conf</c> uses, written from EMQX 5.8's <c>emqx_authz_rule.erl</c> and
/// <c>emqx_topic.erl</c>: rules <c>{Permission, Who, Action, Topics}</c> and <c>{Permission, all}</c>,
/// tried from the top, first match decides, no match = deny (<c>authorization.no_match = deny</c>).
/// Who: <c>all</c>, <c>{user|username, "x"}</c>, <c>{user|username, {re, "..."}}</c>,
/// <c>{client_attr, "name", "value"|{re, "..."}}</c>. Actions: publish, subscribe, all. Topics: a
/// filter (with <c>${username}</c>, <c>${clientid}</c>, <c>${client_attrs.NAME}</c>; a missing value
/// makes the filter match nothing), <c>{eq, "..."}</c> (compared as written), or <c>all</c>.
/// Anything outside the subset is refused with a clear error, so the file cannot drift past the test.
/// </summary>
public sealed class EmqxAcl
{
    private static readonly Regex Placeholder = new(@"\$\{([a-z_]+(?:\.[a-z0-9_]+)?)\}", RegexOptions.CultureInvariant);

    private readonly List<Rule> _rules;

    private EmqxAcl(List<Rule> rules) => _rules = rules;

    public IReadOnlyList<Rule> Rules => _rules;

    public enum AclAction
    {
        Publish,
        Subscribe,
    }

    public static EmqxAcl Parse(string text)
    {
        var terms = new ErlangTermReader(text).ReadAll();
        return new EmqxAcl([.. terms.Select(ToRule)]);
    }

    /// <summary>True when the rules allow <paramref name="action"/> on <paramref name="topic"/> (a topic to publish or a filter to subscribe).</summary>
    public bool Allows(Client client, AclAction action, string topic)
    {
        foreach (var rule in _rules)
        {
            if (rule.Action is { } a && a != action)
            {
                continue;
            }

            if (!rule.Who(client) || !rule.Topics.Any(t => t(client, topic)))
            {
                continue;
            }

            return rule.Allow;
        }

        return false;
    }

    private static Rule ToRule(object term)
    {
        if (term is not object[] tuple)
        {
            throw new FormatException($"a rule must be a tuple, not {Show(term)}");
        }

        var allow = tuple[0] switch
        {
            Atom { Name: "allow" } => true,
            Atom { Name: "deny" } => false,
            _ => throw new FormatException($"permission must be allow or deny: {Show(tuple[0])}"),
        };
        if (tuple.Length == 2 && tuple[1] is Atom { Name: "all" })
        {
            return new Rule(allow, _ => true, null, [(_, _) => true], Show(term));
        }

        if (tuple.Length != 4)
        {
            throw new FormatException($"a rule has 4 elements (or is {{Permission, all}}): {Show(term)}");
        }

        AclAction? action = tuple[2] switch
        {
            Atom { Name: "publish" } => AclAction.Publish,
            Atom { Name: "subscribe" } => AclAction.Subscribe,
            Atom { Name: "all" } => null,
            _ => throw new FormatException($"action outside the tested subset: {Show(tuple[2])}"),
        };
        List<Func<Client, string, bool>> topics = tuple[3] switch
        {
            Atom { Name: "all" } => [(_, _) => true],
            List<object> list => [.. list.Select(TopicMatcher)],
            _ => throw new FormatException($"topics must be a list or all: {Show(tuple[3])}"),
        };
        return new Rule(allow, WhoMatcher(tuple[1]), action, topics, Show(term));
    }

    private static Func<Client, bool> WhoMatcher(object who) => who switch
    {
        Atom { Name: "all" } => _ => true,
        object[] { Length: 2 } t when t[0] is Atom { Name: "user" or "username" } && t[1] is string name => c => c.Username == name,
        object[] { Length: 2 } t when t[0] is Atom { Name: "user" or "username" } && t[1] is object[] { Length: 2 } re && re[0] is Atom { Name: "re" } && re[1] is string pattern =>
            c => c.Username is { } u && Pcre(pattern).IsMatch(u),
        object[] { Length: 3 } t when t[0] is Atom { Name: "client_attr" } && t[1] is string attr && t[2] is string value =>
            c => c.Attributes.TryGetValue(attr, out var v) && v == value,
        object[] { Length: 3 } t when t[0] is Atom { Name: "client_attr" } && t[1] is string attr && t[2] is object[] { Length: 2 } re && re[0] is Atom { Name: "re" } && re[1] is string pattern =>
            c => c.Attributes.TryGetValue(attr, out var v) && Pcre(pattern).IsMatch(v),
        _ => throw new FormatException($"who outside the tested subset: {Show(who)}"),
    };

    private static Func<Client, string, bool> TopicMatcher(object topic) => topic switch
    {
        // {eq, Filter}: the topic or filter exactly as written; EMQX renders no placeholder here.
        object[] { Length: 2 } t when t[0] is Atom { Name: "eq" } && t[1] is string literal => (_, name) => name == literal,
        string filter when Placeholder.IsMatch(filter) => (client, name) => Render(filter, client) is { } rendered && TopicMatches(name, rendered),
        string filter => (_, name) => TopicMatches(name, filter),
        _ => throw new FormatException($"topic outside the tested subset: {Show(topic)}"),
    };

    /// <summary>EMQX's render_strict: every placeholder must have a value, or the filter matches nothing.</summary>
    private static string? Render(string filter, Client client)
    {
        var missing = false;
        var rendered = Placeholder.Replace(filter, m =>
        {
            string? value = m.Groups[1].Value switch
            {
                "username" => client.Username,
                "clientid" => client.ClientId,
                var name when name.StartsWith("client_attrs.", StringComparison.Ordinal) =>
                    client.Attributes.TryGetValue(name["client_attrs.".Length..], out var v) ? v : null,
                var name => throw new FormatException($"placeholder outside the tested subset: ${{{name}}}"),
            };
            missing |= value is null;
            return value ?? string.Empty;
        });
        return missing ? null : rendered;
    }

    /// <summary>emqx_topic:match/2: a name (or a subscribed filter, its wildcards taken as words) against a rule's filter.</summary>
    public static bool TopicMatches(string name, string filter)
    {
        var n = name.Split('/');
        var f = filter.Split('/');
        if (n[0].StartsWith('$') && (f[0] == "+" || f[0] == "#"))
        {
            return false;
        }

        var i = 0;
        for (; i < f.Length; i++)
        {
            if (f[i] == "#" && i == f.Length - 1)
            {
                return true;
            }

            if (i >= n.Length || (f[i] != "+" && f[i] != n[i]))
            {
                return false;
            }
        }

        return i == n.Length;
    }

    // Erlang's re is PCRE: the ACL's patterns use only what .NET reads the same way.
    private static Regex Pcre(string pattern) => new(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static string Show(object term) => term switch
    {
        Atom a => a.Name,
        string s => $"\"{s}\"",
        object[] t => "{" + string.Join(", ", t.Select(Show)) + "}",
        List<object> l => "[" + string.Join(", ", l.Select(Show)) + "]",
        _ => term.ToString() ?? string.Empty,
    };

    /// <summary>What a rule sees of a connected client.</summary>
    public sealed record Client(string? Username, string ClientId, IReadOnlyDictionary<string, string> Attributes);

    public sealed record Rule(bool Allow, Func<Client, bool> Who, AclAction? Action, IReadOnlyList<Func<Client, string, bool>> Topics, string Text);

    public sealed record Atom(string Name);

    /// <summary>Reads Erlang terms ending in '.': tuples, lists, atoms (bare or quoted), strings; '%' comments.</summary>
    private sealed class ErlangTermReader(string text)
    {
        private int _at;

        public List<object> ReadAll()
        {
            var terms = new List<object>();
            while (true)
            {
                SkipBlank();
                if (_at >= text.Length)
                {
                    return terms;
                }

                terms.Add(ReadTerm());
                SkipBlank();
                Expect('.');
            }
        }

        private object ReadTerm()
        {
            SkipBlank();
            if (_at >= text.Length)
            {
                throw Error("a term");
            }

            switch (text[_at])
            {
                case '{':
                    _at++;
                    return ReadSequence('}').ToArray();
                case '[':
                    _at++;
                    return ReadSequence(']');
                case '"':
                    return ReadQuoted('"');
                case '\'':
                    return new Atom(ReadQuoted('\''));
                default:
                    var start = _at;
                    while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_'))
                    {
                        _at++;
                    }

                    if (start == _at || !char.IsAsciiLetterLower(text[start]))
                    {
                        throw Error("an atom, a string, a tuple or a list");
                    }

                    return new Atom(text[start.._at]);
            }
        }

        private List<object> ReadSequence(char close)
        {
            var items = new List<object>();
            SkipBlank();
            if (Peek() == close)
            {
                _at++;
                return items;
            }

            while (true)
            {
                items.Add(ReadTerm());
                SkipBlank();
                if (Peek() == ',')
                {
                    _at++;
                    continue;
                }

                Expect(close);
                return items;
            }
        }

        private string ReadQuoted(char quote)
        {
            _at++;
            var value = new StringBuilder();
            while (_at < text.Length && text[_at] != quote)
            {
                if (text[_at] == '\\')
                {
                    _at++;
                    if (_at >= text.Length)
                    {
                        break;
                    }
                }

                value.Append(text[_at++]);
            }

            Expect(quote);
            return value.ToString();
        }

        private void SkipBlank()
        {
            while (_at < text.Length)
            {
                if (char.IsWhiteSpace(text[_at]))
                {
                    _at++;
                }
                else if (text[_at] == '%')
                {
                    while (_at < text.Length && text[_at] != '\n')
                    {
                        _at++;
                    }
                }
                else
                {
                    return;
                }
            }
        }

        private char? Peek() => _at < text.Length ? text[_at] : null;

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw Error($"'{c}'");
            }

            _at++;
        }

        private FormatException Error(string expected)
        {
            var line = text[.._at].Count(ch => ch == '\n') + 1;
            return new FormatException($"acl.conf line {line}: expected {expected}");
        }
    }
}

using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OtelAi.Engine.Config;

/// <summary>
/// The merged, expanded config as YAML (what <c>otelai print-config</c> shows). Redacted, the values of secret keys
/// (tokens, passwords, secrets, API keys, private keys, htpasswd lines), of credential headers, and the passwords in
/// URLs are replaced, so the output can be pasted into an issue.
/// </summary>
internal static partial class EffectiveConfig
{
    public const string Redacted = "[REDACTED]";

    [GeneratedRegex(@"^(token|tokens|password|secret|client_secret|api_key|apikey|bearer_token|key_pem|private_key|inline|credentials)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"authorization|api[-_]?key|token|secret|cookie|password", RegexOptions.IgnoreCase)]
    private static partial Regex SecretHeader();

    [GeneratedRegex(@"(?<=://[^/@:\s]+:)[^/@\s]+(?=@)")]
    private static partial Regex UrlPassword();

    public static string ToYaml(MappingNode root, bool redact)
    {
        var stream = new YamlStream(new YamlDocument(Convert(root, redact, secret: false, inHeaders: false)));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();
        // YamlDotNet ends a document with "...": not part of what a user writes.
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlNode Convert(ConfigNode node, bool redact, bool secret, bool inHeaders) => node switch
    {
        ScalarNode scalar => Scalar(scalar, redact && secret),
        SequenceNode sequence => new YamlSequenceNode(sequence.Items.Select(i => Convert(i, redact, secret, inHeaders: false))),
        MappingNode mapping => new YamlMappingNode(mapping.Entries.Select(e => new KeyValuePair<YamlNode, YamlNode>(
            new YamlScalarNode(e.Key),
            Convert(e.Value, redact, secret || SecretKey().IsMatch(e.Key) || inHeaders && SecretHeader().IsMatch(e.Key), inHeaders: e.Key == "headers")))),
        _ => new YamlScalarNode(""),
    };

    private static YamlScalarNode Scalar(ScalarNode scalar, bool redact)
    {
        if (scalar.Value is null) return new YamlScalarNode("null");
        if (redact) return new YamlScalarNode(Redacted) { Style = ScalarStyle.DoubleQuoted };
        var value = UrlPassword().Replace(scalar.Value, "xxxxx");
        return new YamlScalarNode(value) { Style = scalar.Quoted ? ScalarStyle.DoubleQuoted : ScalarStyle.Any };
    }
}

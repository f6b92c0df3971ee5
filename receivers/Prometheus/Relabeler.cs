using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OtelAi.Receivers.Prometheus;

/// <summary>
/// Prometheus relabeling over one label set: rules run in order; keep/drop/keepequal/dropequal can drop the whole
/// set. Regexes are anchored at both ends; replacement references groups as $1 or ${1}.
/// </summary>
internal sealed class Relabeler(IReadOnlyList<RelabelConfig> rules)
{
    private readonly (RelabelConfig Rule, Regex Regex)[] _rules =
        [.. rules.Select(rule => (rule, new Regex("^(?:" + rule.Regex + ")$", RegexOptions.CultureInvariant)))];

    public bool IsEmpty => _rules.Length == 0;

    /// <summary>Applies the rules to <paramref name="labels"/> in place; false when the set is dropped.</summary>
    public bool Apply(Dictionary<string, string> labels)
    {
        foreach (var (rule, regex) in _rules)
        {
            var value = string.Join(rule.Separator, rule.SourceLabels.Select(name => labels.GetValueOrDefault(name, "")));
            switch (rule.Action)
            {
                case RelabelAction.Keep:
                    if (!regex.IsMatch(value)) return false;
                    break;
                case RelabelAction.Drop:
                    if (regex.IsMatch(value)) return false;
                    break;
                case RelabelAction.KeepEqual:
                    if (value != labels.GetValueOrDefault(rule.TargetLabel, "")) return false;
                    break;
                case RelabelAction.DropEqual:
                    if (value == labels.GetValueOrDefault(rule.TargetLabel, "")) return false;
                    break;
                case RelabelAction.Replace:
                    {
                        var match = regex.Match(value);
                        if (!match.Success) break;
                        var target = match.Result(rule.TargetLabel);
                        if (target.Length == 0) break;
                        var replaced = match.Result(rule.Replacement);
                        if (replaced.Length == 0) labels.Remove(target);
                        else labels[target] = replaced;
                        break;
                    }
                case RelabelAction.Lowercase:
                    labels[rule.TargetLabel] = value.ToLowerInvariant();
                    break;
                case RelabelAction.Uppercase:
                    labels[rule.TargetLabel] = value.ToUpperInvariant();
                    break;
                case RelabelAction.HashMod:
                    {
                        var hash = MD5.HashData(Encoding.UTF8.GetBytes(value));
                        labels[rule.TargetLabel] = (BinaryPrimitives.ReadUInt64BigEndian(hash.AsSpan(8)) % rule.Modulus).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    }
                case RelabelAction.LabelMap:
                    foreach (var (name, labelValue) in labels.ToList())
                        if (regex.Match(name) is { Success: true } match) labels[match.Result(rule.Replacement)] = labelValue;
                    break;
                case RelabelAction.LabelDrop:
                    foreach (var name in labels.Keys.ToList())
                        if (regex.IsMatch(name)) labels.Remove(name);
                    break;
                case RelabelAction.LabelKeep:
                    foreach (var name in labels.Keys.ToList())
                        if (!regex.IsMatch(name)) labels.Remove(name);
                    break;
            }
        }
        return true;
    }
}

using System.Numerics;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>
/// otelcol's probabilistic policy, decision for decision: FNV-1a 64 over salt then trace id bytes, sampled when the
/// hash is at most threshold = MaxUint64 × percentage/100, computed as Go's big.Float does (64-bit mantissa,
/// round half to even, then truncated to an integer).
/// </summary>
internal sealed class ProbabilisticPolicy(string hashSalt, double samplingPercentage) : IPolicyEvaluator
{
    private const string DefaultHashSalt = "default-hash-seed";
    private readonly byte[] _salt = System.Text.Encoding.UTF8.GetBytes(hashSalt.Length == 0 ? DefaultHashSalt : hashSalt);
    private readonly ulong _threshold = Threshold(samplingPercentage / 100);

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) =>
        Hash(_salt, traceId) <= _threshold ? SamplingDecision.Sampled : SamplingDecision.NotSampled;

    internal static ulong Hash(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> traceId)
    {
        const ulong offset = 14695981039346656037, prime = 1099511628211;
        var hash = offset;
        foreach (var b in salt) hash = (hash ^ b) * prime;
        foreach (var b in traceId) hash = (hash ^ b) * prime;
        return hash;
    }

    internal static ulong Threshold(double ratio)
    {
        if (ratio <= 0 || double.IsNaN(ratio)) return 0;
        // Exact product of MaxUint64 and the double, then rounded to 64 significant bits like big.Float (prec 64).
        var bits = BitConverter.DoubleToInt64Bits(ratio);
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent++; else mantissa |= 1L << 52;
        exponent -= 1075; // ratio = mantissa × 2^exponent
        var product = new BigInteger(ulong.MaxValue) * mantissa; // value = product × 2^exponent
        var length = (int)product.GetBitLength();
        if (length > 64)
        {
            var drop = length - 64;
            var kept = product >> drop;
            var remainder = product - (kept << drop);
            var half = BigInteger.One << (drop - 1);
            if (remainder > half || (remainder == half && !kept.IsEven)) kept += 1;
            product = kept << drop;
        }
        var integer = exponent >= 0 ? product << exponent : product >> -exponent;
        return integer >= ulong.MaxValue ? ulong.MaxValue : (ulong)integer;
    }
}

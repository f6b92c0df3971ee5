namespace OtelAi.Processors.Anomaly;

/// <summary>
/// The binary form of an anomaly engine's state for a storage extension: per series and group the step aggregates
/// in the ring (sketch buckets and sums), and per rule and group the alert state. Times of values are stored as
/// Unix seconds, so a restarted engine (another time origin) reads them back right. A blob of another version, or a
/// damaged one, is ignored: the engine starts empty rather than wrong.
/// </summary>
internal static class AnomalySnapshot
{
    private const int Version = 1;

    public static void WriteHeader(BinaryWriter writer) => writer.Write(Version);

    public static bool ReadHeader(BinaryReader reader) => reader.ReadInt32() == Version;

    public static void WriteStep(BinaryWriter writer, long step, StepAggregate aggregate, double originSeconds)
    {
        writer.Write(step);
        var shifted = aggregate.Shifted(originSeconds);
        writer.Write(shifted.Count);
        writer.Write(shifted.Sum);
        writer.Write(shifted.SumSquares);
        writer.Write(shifted.Min);
        writer.Write(shifted.Max);
        writer.Write(shifted.SumT);
        writer.Write(shifted.SumTT);
        writer.Write(shifted.SumTV);
        shifted.Sketch.Write(writer);
    }

    public static (long Step, StepAggregate Aggregate) ReadStep(BinaryReader reader, double originSeconds)
    {
        var step = reader.ReadInt64();
        var aggregate = new StepAggregate
        {
            Count = reader.ReadDouble(),
            Sum = reader.ReadDouble(),
            SumSquares = reader.ReadDouble(),
            Min = reader.ReadDouble(),
            Max = reader.ReadDouble(),
            SumT = reader.ReadDouble(),
            SumTT = reader.ReadDouble(),
            SumTV = reader.ReadDouble(),
        };
        aggregate.Sketch.Read(reader);
        return (step, aggregate.Shifted(-originSeconds));
    }
}

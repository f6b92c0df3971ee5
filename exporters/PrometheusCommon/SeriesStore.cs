using System.Collections.Concurrent;

namespace OtelAi.Exporters.PrometheusCommon;

/// <summary>What happened to a point offered to a <see cref="SeriesStore"/>.</summary>
internal enum StoreOutcome { Stored, Removed, RefusedOverLimit }

/// <summary>
/// The latest state of every series, by family and labels: cumulative points replace, deltas accumulate into
/// cumulative values (so delta sums and histograms come out as proper counters), stale points remove their series.
/// Series not updated within the expiration are removed by <see cref="Expire"/>, which the owner runs on a timer,
/// so an endpoint nobody scrapes does not grow forever. <c>maxSeries</c> caps the number of series: points that
/// would add one more are refused and counted by the caller.
/// </summary>
internal sealed class SeriesStore(long maxSeries)
{
    private readonly ConcurrentDictionary<string, Family> _families = new(StringComparer.Ordinal);
    private long _seriesCount;

    private sealed class Family(PromFamily metadata)
    {
        public PromFamily Metadata = metadata;
        public readonly ConcurrentDictionary<SeriesKey, PromSeries> Series = new();
    }

    public long SeriesCount => Interlocked.Read(ref _seriesCount);

    /// <summary>Folds <paramref name="point"/> into its series; returns the series' state after it (null when removed or refused).</summary>
    public (StoreOutcome Outcome, PromSeries? State) Apply(PromSeries point)
    {
        var family = _families.GetOrAdd(point.Family.Name, static (_, metadata) => new Family(metadata), point.Family);
        if (family.Metadata.Type != point.Family.Type)
        {
            // The same name now means another type (a renamed instrument): the old series can no longer be written beside it.
            lock (family)
            {
                if (family.Metadata.Type != point.Family.Type)
                {
                    Interlocked.Add(ref _seriesCount, -family.Series.Count);
                    family.Series.Clear();
                }
                family.Metadata = point.Family;
            }
        }
        else if (!ReferenceEquals(family.Metadata, point.Family)) family.Metadata = point.Family;

        if (point.NoRecordedValue)
        {
            if (family.Series.TryRemove(point.Key, out _)) Interlocked.Decrement(ref _seriesCount);
            return (StoreOutcome.Removed, null);
        }
        while (true)
        {
            if (family.Series.TryGetValue(point.Key, out var existing))
            {
                lock (existing)
                {
                    if (!existing.Retired)
                    {
                        existing.Apply(point);
                        return (StoreOutcome.Stored, existing.Snapshot());
                    }
                }
                continue; // expired under our feet: start the series again

            }
            if (maxSeries > 0 && Interlocked.Increment(ref _seriesCount) > maxSeries)
            {
                Interlocked.Decrement(ref _seriesCount);
                return (StoreOutcome.RefusedOverLimit, null);
            }
            if (maxSeries <= 0) Interlocked.Increment(ref _seriesCount);
            if (family.Series.TryAdd(point.Key, point)) return (StoreOutcome.Stored, point.Snapshot());
            Interlocked.Decrement(ref _seriesCount); // another caller added it first: fold into theirs
        }
    }

    /// <summary>Removes series last updated before <paramref name="olderThanTicks"/>; returns how many.</summary>
    public int Expire(long olderThanTicks)
    {
        var removed = 0;
        // Families stay (one per metric name, small); series are retired under their lock so a point being folded
        // into one at this moment starts it again instead of landing in a removed object.
        foreach (var family in _families.Values)
            foreach (var (key, series) in family.Series)
            {
                lock (series)
                {
                    if (series.UpdatedTicks >= olderThanTicks) continue;
                    series.Retired = true;
                }
                if (family.Series.TryRemove(new KeyValuePair<SeriesKey, PromSeries>(key, series))) removed++;
            }
        Interlocked.Add(ref _seriesCount, -removed);
        return removed;
    }

    /// <summary>Every family with a snapshot of its series, sorted by family name and then labels (a stable exposition).</summary>
    public List<(PromFamily Family, List<PromSeries> Series)> Snapshot()
    {
        var result = new List<(PromFamily, List<PromSeries>)>(_families.Count);
        foreach (var family in _families.Values)
        {
            var series = new List<PromSeries>(family.Series.Count);
            foreach (var state in family.Series.Values)
                lock (state) series.Add(state.Snapshot());
            if (series.Count == 0) continue;
            series.Sort(static (a, b) => a.Key.CompareTo(b.Key));
            result.Add((family.Metadata, series));
        }
        result.Sort(static (a, b) => string.CompareOrdinal(a.Item1.Name, b.Item1.Name));
        return result;
    }
}

using Google.Protobuf.Collections;

namespace OtelAi.Otlp;

/// <summary>Resource → scope → item list surgery the signals share: splitting a request and removing invalid items.</summary>
internal static class ResourceSplitter
{
    public static void SplitOff<TResource, TScope, TItem>(
        RepeatedField<TResource> source,
        RepeatedField<TResource> head,
        int maxItems,
        Func<TResource, RepeatedField<TScope>> scopesOf,
        Func<TResource, TResource> emptyCopyOfResource,
        Func<TScope, RepeatedField<TItem>> itemsOf,
        Func<TScope, TScope> emptyCopyOfScope)
    {
        // Walk by index and cut each list once at the end: removing element 0 repeatedly would be quadratic.
        var budget = maxItems;
        var takenResources = 0;
        while (budget > 0 && takenResources < source.Count)
        {
            var resource = source[takenResources];
            var scopes = scopesOf(resource);
            var resourceItems = ScopeItemCount(scopes, itemsOf);
            if (resourceItems <= budget)
            {
                budget -= resourceItems;
                head.Add(resource);
                takenResources++;
                continue;
            }

            // The resource does not fit whole: the head gets a copy with what fits, the rest stays in the source.
            var headResource = emptyCopyOfResource(resource);
            var headScopes = scopesOf(headResource);
            var takenScopes = 0;
            while (budget > 0 && takenScopes < scopes.Count)
            {
                var scope = scopes[takenScopes];
                var items = itemsOf(scope);
                if (items.Count <= budget)
                {
                    budget -= items.Count;
                    headScopes.Add(scope);
                    takenScopes++;
                    continue;
                }

                var headScope = emptyCopyOfScope(scope);
                var headItems = itemsOf(headScope);
                for (var i = 0; i < budget; i++) headItems.Add(items[i]);
                RemoveFirst(items, budget);
                headScopes.Add(headScope);
                budget = 0;
            }
            RemoveFirst(scopes, takenScopes);
            head.Add(headResource);
        }
        RemoveFirst(source, takenResources);
    }

    /// <summary>Removes the first <paramref name="count"/> entries in one pass.</summary>
    public static void RemoveFirst<T>(RepeatedField<T> field, int count)
    {
        if (count <= 0) return;
        if (count >= field.Count)
        {
            field.Clear();
            return;
        }
        var rest = new T[field.Count - count];
        for (var i = 0; i < rest.Length; i++) rest[i] = field[count + i];
        field.Clear();
        field.AddRange(rest);
    }

    private static int ScopeItemCount<TScope, TItem>(
        RepeatedField<TScope> scopes,
        Func<TScope, RepeatedField<TItem>> itemsOf)
    {
        var n = 0;
        foreach (var scope in scopes) n += itemsOf(scope).Count;
        return n;
    }

    /// <summary>
    /// Slow path shared by the signals: removes invalid items, then scopes and resources left empty. Only runs once
    /// a first invalid item was seen, so valid requests pay one scan and no allocation. Each list is compacted once
    /// (removing items one by one was quadratic on a request that alternates valid and invalid items).
    /// </summary>
    public static int RemoveWhere<TResource, TScope, TItem>(
        RepeatedField<TResource> resources,
        Func<TResource, RepeatedField<TScope>> scopesOf,
        Func<TScope, RepeatedField<TItem>> itemsOf,
        Func<TItem, string?> problemOf,
        out string? firstProblem)
    {
        string? first = null;
        var removed = 0;
        RemoveAll(resources, resource =>
        {
            var scopes = scopesOf(resource);
            if (scopes.Count == 0) return false;
            RemoveAll(scopes, scope =>
            {
                var items = itemsOf(scope);
                if (items.Count == 0) return false;
                removed += RemoveAll(items, item =>
                {
                    if (problemOf(item) is not { } problem) return false;
                    first ??= problem;
                    return true;
                });
                return items.Count == 0;
            });
            return scopes.Count == 0;
        });
        firstProblem = first;
        return removed;
    }

    /// <summary>Removes the elements <paramref name="remove"/> picks (called once per element, in order) with one rewrite of the list.</summary>
    private static int RemoveAll<T>(RepeatedField<T> list, Func<T, bool> remove)
    {
        List<T>? kept = null;
        for (var i = 0; i < list.Count; i++)
        {
            if (remove(list[i])) kept ??= new List<T>(list.Take(i));
            else kept?.Add(list[i]);
        }
        if (kept is null) return 0;
        var removed = list.Count - kept.Count;
        list.Clear();
        list.Add(kept);
        return removed;
    }
}

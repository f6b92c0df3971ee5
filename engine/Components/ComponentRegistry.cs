namespace OtelAi.Engine.Components;

/// <summary>The component types a service can build, by kind and otelcol type name. Aliases map to one factory.</summary>
public sealed class ComponentRegistry
{
    private readonly Dictionary<(ComponentKind, string), IComponentFactory> _factories = new();
    private readonly Dictionary<(ComponentKind, string), string> _aliases = new();

    /// <summary>The engine's feature gates and the registered factories'; set them before building a collector.</summary>
    public FeatureGates FeatureGates { get; } = new(FeatureGates.EngineGates);

    /// <summary>The language of the live page's tap filters (the processors assembly registers OTTL); null: taps take no filter.</summary>
    public Service.ITapConditionCompiler? TapConditions { get; set; }

    /// <summary>Registers <paramref name="factory"/> under its type and its <see cref="IComponentFactory.Aliases"/>.</summary>
    public ComponentRegistry Add(IComponentFactory factory)
    {
        if (!_factories.TryAdd((factory.Kind, factory.Type), factory))
            throw new InvalidOperationException($"a {factory.Kind.ToString().ToLowerInvariant()} of type \"{factory.Type}\" is already registered");
        foreach (var alias in factory.Aliases) _aliases[(factory.Kind, alias)] = factory.Type;
        foreach (var gate in factory.FeatureGates) FeatureGates.Register(gate);
        return this;
    }

    public bool TryGet(ComponentKind kind, string type, out IComponentFactory factory)
    {
        if (_aliases.TryGetValue((kind, type), out var canonical)) type = canonical;
        return _factories.TryGetValue((kind, type), out factory!);
    }

    /// <summary>Every type name accepted for <paramref name="kind"/>, aliases included, sorted.</summary>
    public IReadOnlyList<string> TypeNames(ComponentKind kind) =>
        _factories.Keys.Where(k => k.Item1 == kind).Select(k => k.Item2)
            .Concat(_aliases.Keys.Where(k => k.Item1 == kind).Select(k => k.Item2))
            .Order(StringComparer.Ordinal).ToList();

    public IEnumerable<IComponentFactory> Factories(ComponentKind kind) =>
        _factories.Where(kv => kv.Key.Item1 == kind).Select(kv => kv.Value).OrderBy(f => f.Type, StringComparer.Ordinal);

    public IEnumerable<string> AliasesOf(IComponentFactory factory) =>
        _aliases.Where(kv => kv.Key.Item1 == factory.Kind && kv.Value == factory.Type).Select(kv => kv.Key.Item2);
}

using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.Reflection;

namespace OtelAi.Otlp;

public abstract partial class OtlpSignal<T>
{
    /// <summary>
    /// What every signal does the same way over its resource → scope → item lists: counting, moving, splitting at
    /// item granularity and removing invalid items. A signal says where its lists are, how to copy a resource or
    /// scope without its children, and what makes an item invalid; metrics override counting and splitting, since
    /// a metric holds several data points.
    /// </summary>
    private abstract class NestedSignal<TRequest, TResource, TScope, TItem>(Signal signal, FileDescriptor serviceFile, string httpPath)
        : OtlpSignal<TRequest>(signal, serviceFile, httpPath)
        where TRequest : class, IMessage<TRequest>, new()
        where TResource : class
        where TScope : class
    {
        protected abstract RepeatedField<TResource> Resources(TRequest request);

        protected abstract RepeatedField<TScope> Scopes(TResource resource);

        protected abstract RepeatedField<TItem> Items(TScope scope);

        /// <summary>The resource entry with its resource and schema URL, and no scopes.</summary>
        protected abstract TResource EmptyCopy(TResource resource);

        /// <summary>The scope entry with its scope and schema URL, and no items.</summary>
        protected abstract TScope EmptyCopy(TScope scope);

        /// <summary>Why an item must not go on (an invalid id), or null; only asked when <see cref="HasItemRules"/>.</summary>
        protected virtual string? Problem(TItem item) => null;

        /// <summary>False for a signal whose items OTLP puts no rules on (metrics): valid requests skip the scan.</summary>
        protected virtual bool HasItemRules => true;

        public sealed override int ResourceCount(TRequest data) => Resources(data).Count;

        public override int CountItems(TRequest data)
        {
            var n = 0;
            foreach (var resource in Resources(data))
                foreach (var scope in Scopes(resource))
                    n += Items(scope).Count;
            return n;
        }

        public sealed override void MoveAllTo(TRequest source, TRequest destination)
        {
            Resources(destination).Add(Resources(source));
            Resources(source).Clear();
        }

        public override TRequest SplitOff(TRequest data, int maxItems)
        {
            var head = new TRequest();
            ResourceSplitter.SplitOff(Resources(data), Resources(head), maxItems, Scopes, EmptyCopy, Items, EmptyCopy);
            return head;
        }

        public sealed override int RemoveInvalid(TRequest request, out string? problem)
        {
            problem = null;
            if (!HasItemRules) return 0;
            foreach (var resource in Resources(request))
                foreach (var scope in Scopes(resource))
                    foreach (var item in Items(scope))
                        if (Problem(item) is not null)
                            return ResourceSplitter.RemoveWhere(Resources(request), Scopes, Items, Problem, out problem);
            return 0;
        }
    }
}

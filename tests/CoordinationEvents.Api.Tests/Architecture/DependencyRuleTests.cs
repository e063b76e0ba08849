using NetArchTest.Rules;

namespace CoordinationEvents.Api.Tests.Architecture;

/// <summary>
/// The one-way rule of the service's folders (README, "Architecture"): features sit on a small core, and the core names
/// no feature; a feature uses only the features listed for it here (their public surface: events, messages, queries),
/// and nothing depends on the composition root. Read from the compiled IL (NetArchTest, Mono.Cecil), so a call in a
/// method body counts as much as a parameter type.
/// </summary>
public sealed class DependencyRuleTests
{
    const string Root = "CoordinationEvents.Api";
    const string Core = Root + ".Core";

    /// <summary>Each feature and the other features it may use. Everything may use the core and the contracts.</summary>
    static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Activities"] = [],
        ["Units"] = [],
        ["Statistics"] = ["Activities", "Units"],
        ["Reports"] = ["Activities", "Statistics"],
        ["Imports"] = ["Activities"],
        ["Feed"] = ["Activities"],
        ["Admin"] = ["Activities", "Statistics"],
        ["Catalog"] = ["Activities"],
        ["Keys"] = [],
    };

    static IEnumerable<string> Features => Allowed.Keys;

    static readonly string[] CompositionRoot = [$"{Root}.ServiceSetup", "Program"];

    static Types Service => Types.InAssembly(typeof(ServiceSetup).Assembly);

    [Fact]
    public void The_core_depends_on_no_feature_and_not_on_the_composition_root()
    {
        var result = Service.That().ResideInNamespace(Core).ShouldNot()
            .HaveDependencyOnAny([.. Features.Select(f => $"{Root}.{f}"), .. CompositionRoot]).GetResult();
        Assert.True(result.IsSuccessful, Failing("Core", result));
    }

    public static TheoryData<string> FeatureNames => new(Allowed.Keys);

    [Theory]
    [MemberData(nameof(FeatureNames))]
    public void A_feature_uses_only_the_core_and_the_features_allowed_to_it(string feature)
    {
        var forbidden = Features.Where(f => f != feature && !Allowed[feature].Contains(f)).Select(f => $"{Root}.{f}").Concat(CompositionRoot).ToArray();
        var result = Service.That().ResideInNamespace($"{Root}.{feature}").ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, Failing(feature, result));
    }

    [Fact]
    public void The_allowed_uses_form_no_cycle()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        void Visit(string feature, List<string> path)
        {
            if (done.Contains(feature)) return;
            Assert.True(visiting.Add(feature), $"cycle: {string.Join(" → ", path.Append(feature))}");
            foreach (var used in Allowed[feature]) Visit(used, [.. path, feature]);
            visiting.Remove(feature);
            done.Add(feature);
        }
        foreach (var feature in Features) Visit(feature, []);
    }

    [Fact]
    public void Every_type_of_the_service_lives_in_the_core_a_feature_or_the_composition_root()
    {
        var known = Features.Select(f => $"{Root}.{f}").Append(Core).ToArray();
        var stray = typeof(ServiceSetup).Assembly.GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith(Root + ".", StringComparison.Ordinal))
            .Where(t => !known.Any(k => t.Namespace == k || t.Namespace!.StartsWith(k + ".", StringComparison.Ordinal)))
            .Select(t => t.FullName).Distinct().ToArray();
        Assert.True(stray.Length == 0, $"types outside the core and the features: {string.Join(", ", stray)}");
    }

    static string Failing(string what, TestResult result) =>
        $"{what} breaks the dependency rule: {string.Join(", ", result.FailingTypeNames ?? [])}";
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CoordinationEvents.Api.Activities;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Catalog;

/// <summary>GET /api/v1/catalog is KindCatalog as data (the dashboard's only source of names), and GET /api/v1/me the caller's role.</summary>
public sealed class CatalogApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static string Nfc(JsonNode? node)
    {
        var text = node!.GetValue<string>();
        Assert.True(text.IsNormalized(NormalizationForm.FormC), $"'{text}' is not NFC");
        Assert.False(string.IsNullOrWhiteSpace(text));
        return text;
    }

    [Fact]
    public async Task The_catalog_holds_every_kind_metric_and_dimension_of_KindCatalog_with_Vietnamese_labels()
    {
        using var analyst = api.Analyst;
        using var response = await analyst.GetAsync("/api/v1/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var catalog = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(KindCatalog.ActivitiesMetric, catalog["activities"]!["name"]!.GetValue<string>());
        Assert.Equal("Số hoạt động", Nfc(catalog["activities"]!["label"]));

        var kinds = catalog["kinds"]!.AsArray();
        Assert.Equal(KindCatalog.All.Select(k => k.Name), kinds.Select(k => k!["name"]!.GetValue<string>()));
        foreach (var (kind, node) in KindCatalog.All.Zip(kinds))
        {
            Assert.Equal(kind.VietnameseName, Nfc(node!["label"]));
            Assert.Equal(kind.IsStock, node["isStock"]!.GetValue<bool>());
            Assert.Equal(kind.TextFields, node["textFields"]!.AsArray().Select(t => t!.GetValue<string>()));

            var metrics = node["metrics"]!.AsArray();
            Assert.Equal(kind.Metrics.Select(m => m.Name), metrics.Select(m => m!["name"]!.GetValue<string>()));
            foreach (var (metric, m) in kind.Metrics.Zip(metrics))
            {
                Assert.Equal(metric.Label, Nfc(m!["label"]));
                Assert.Equal(metric.Unit, Nfc(m["unit"]));
                Assert.Equal(metric.Type.ToString().ToLowerInvariant(), m["type"]!.GetValue<string>());
                Assert.Equal(metric.IsStock, m["isStock"]!.GetValue<bool>());
                Assert.Equal(metric.IsKindCount, m["isKindCount"]!.GetValue<bool>());
            }

            var dimensions = node["dimensions"]!.AsArray();
            Assert.Equal(kind.Dimensions.Select(d => d.Name), dimensions.Select(d => d!["name"]!.GetValue<string>()));
            foreach (var (dimension, d) in kind.Dimensions.Zip(dimensions))
            {
                Nfc(d!["label"]);
                var values = d["values"]!.AsArray();
                Assert.Equal(dimension.Values, values.Select(v => v!["name"]!.GetValue<string>()));
                foreach (var v in values) Nfc(v!["label"]);
            }
        }
        // Every metric name of the statistics, once, and every dimension name.
        Assert.Equal(KindCatalog.MetricNames,
            new[] { catalog["activities"]!["name"]!.GetValue<string>() }.Concat(kinds.SelectMany(k => k!["metrics"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()))));
        Assert.Equal(KindCatalog.DimensionNames.Order(),
            kinds.SelectMany(k => k!["dimensions"]!.AsArray().Select(d => d!["name"]!.GetValue<string>())).Distinct().Order());
        Assert.Equal(["province", "district", "border-post", "commune"], catalog["unitTypes"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal("Số lần tuần tra", KindCatalog.Get("patrol").Metric("patrols")!.Label);
    }

    [Theory]
    [InlineData(ApiKeyOptions.DevReporterKey)]
    [InlineData(ApiKeyOptions.DevAnalystKey)]
    [InlineData(ApiKeyOptions.DevAdminKey)]
    public async Task Any_valid_key_reads_the_catalog_and_its_own_role(string key)
    {
        using var client = api.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/catalog")).StatusCode);
        var me = JsonNode.Parse(await client.GetStringAsync("/api/v1/me"))!;
        var expected = ApiKeyOptions.DevelopmentKeys().Single(k => k.KeySha256 == ApiKeyOptions.Hash(key));
        Assert.Equal(expected.Role, me["role"]!.GetValue<string>());
        Assert.Equal(expected.Client, me["client"]!.GetValue<string>());
        Assert.Empty(me["scope"]!.AsArray());
    }

    [Theory]
    [InlineData("/api/v1/catalog")]
    [InlineData("/api/v1/me")]
    public async Task Without_a_valid_key_the_answer_is_401(string path)
    {
        using var anonymous = api.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        using var wrong = api.Client("not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task A_scoped_reporter_sees_its_scope()
    {
        using var client = api.Client(ApiFactory.ScopedReporterKey);
        var me = JsonNode.Parse(await client.GetStringAsync("/api/v1/me"))!;
        Assert.Equal(Roles.Reporter, me["role"]!.GetValue<string>());
        Assert.Equal(ApiFactory.ScopedReporterClient, me["client"]!.GetValue<string>());
        Assert.NotEmpty(me["scope"]!.AsArray());
    }

    [Fact]
    public async Task Swagger_lists_both_with_a_summary_and_a_tag()
    {
        using var anonymous = api.Client(null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync("/swagger/v1/swagger.json"))!;
        foreach (var path in new[] { "/api/v1/catalog", "/api/v1/me" })
        {
            var get = doc["paths"]![path]!["get"]!;
            Assert.False(string.IsNullOrWhiteSpace(get["summary"]?.GetValue<string>()), path);
            Assert.Equal("Catalog", get["tags"]![0]!.GetValue<string>());
        }
    }
}

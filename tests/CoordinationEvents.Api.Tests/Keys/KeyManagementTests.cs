using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Tests.Infrastructure;

namespace CoordinationEvents.Api.Tests.Keys;

/// <summary>
/// Keys at run time: made, used, rotated and revoked through the admin endpoints, on two instances of the service on
/// one database (the second must refuse a rotated or revoked secret within 5 s); the errors of the endpoints; and the
/// history of key and unit changes with who made them.
/// </summary>
public sealed class KeyManagementTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    static readonly TimeSpan Promise = TimeSpan.FromSeconds(5);

    static async Task<HttpStatusCode> StatusWith(ServiceInstance instance, string key)
    {
        using var client = instance.Client(key);
        using var response = await client.GetAsync("/api/v1/me");
        return response.StatusCode;
    }

    /// <summary>Polls until <paramref name="key"/> gets <paramref name="expected"/> from <paramref name="instance"/>; returns how long it took.</summary>
    static async Task<TimeSpan> UntilAsync(ServiceInstance instance, string key, HttpStatusCode expected, Stopwatch since)
    {
        while (await StatusWith(instance, key) != expected)
        {
            Assert.True(since.Elapsed < Promise + TimeSpan.FromSeconds(1), $"still not {expected} after {since.Elapsed}");
            await Task.Delay(50);
        }
        return since.Elapsed;
    }

    static async Task<(string KeyId, string Secret, JsonElement Body)> CreateAsync(HttpClient admin, string body)
    {
        using var response = await admin.PostJsonAsync("/api/v1/admin/keys", body);
        var json = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        var keyId = json.GetProperty("keyId").GetString()!;
        Assert.Equal($"/api/v1/admin/keys/{keyId}", response.Headers.Location?.OriginalString);
        return (keyId, json.GetProperty("secret").GetString()!, json);
    }

    [Fact]
    public async Task A_key_made_at_run_time_works_and_once_rotated_or_revoked_a_second_instance_refuses_it_within_5_s()
    {
        await using var second = new ApiFactory(api.ConnectionString);
        await second.InitializeAsync();
        using var admin = api.Admin;

        var (keyId, secret, created) = await CreateAsync(admin, """{"client":"muong-te-duty-log","role":"reporter","scope":["phong-tho"]}""");
        Assert.StartsWith("ce_", secret);
        Assert.Equal("muong-te-duty-log", created.GetProperty("key").GetProperty("client").GetString());
        Assert.Equal("dev-admin", created.GetProperty("key").GetProperty("createdBy").GetString());

        // Only the hash is stored.
        Assert.Equal(1, await api.ScalarAsync($"select count(*) from api_keys where key_id = '{keyId}' and key_sha256 = '{ApiKeyOptions.Hash(secret)}'"));
        Assert.Equal(0, await api.ScalarAsync($"select count(*) from api_keys where key_sha256 = '{secret}'"));

        // It works on the instance that made it at once, on the other one soon; it writes within its scope only.
        Assert.Equal(HttpStatusCode.OK, await StatusWith(api, secret));
        await UntilAsync(second, secret, HttpStatusCode.OK, Stopwatch.StartNew());
        using (var reporter = second.Client(secret))
        {
            var body = JsonSerializer.Serialize(new
            {
                externalId = "runtime-key-1", kind = "patrol", unitId = "don-ma-lu-thang", occurredOn = "2024-03-02", summary = "Tuần tra",
                details = new { mode = "bilateral", patrols = 1, patrolParticipants = 8 },
            });
            using var posted = await reporter.PostJsonAsync("/api/v1/activities", body);
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }

        // The list shows it, and never a secret or a hash.
        var list = await admin.GetStringAsync("/api/v1/admin/keys");
        Assert.Contains(keyId, list);
        Assert.DoesNotContain(secret, list);
        Assert.DoesNotContain(ApiKeyOptions.Hash(secret), list);
        Assert.DoesNotContain(ApiKeyOptions.Hash(ApiKeyOptions.DevAdminKey), list);

        // Rotation: a new secret; the old one refused here at once, on the second instance within 5 s.
        using var rotated = await admin.PostAsync($"/api/v1/admin/keys/{keyId}/rotate", null);
        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newSecret = (await rotated.JsonAsync()).GetProperty("secret").GetString()!;
        Assert.NotEqual(secret, newSecret);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(api, secret));
        Assert.Equal(HttpStatusCode.OK, await StatusWith(api, newSecret));
        Assert.True(await UntilAsync(second, secret, HttpStatusCode.Unauthorized, clock) < Promise);
        await UntilAsync(second, newSecret, HttpStatusCode.OK, Stopwatch.StartNew());

        // Revocation: refused everywhere within 5 s.
        using var revoked = await admin.DeleteAsync($"/api/v1/admin/keys/{keyId}");
        clock.Restart();
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(api, newSecret));
        Assert.True(await UntilAsync(second, newSecret, HttpStatusCode.Unauthorized, clock) < Promise);
        using (var again = await admin.DeleteAsync($"/api/v1/admin/keys/{keyId}")) Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        using (var rotateRevoked = await admin.PostAsync($"/api/v1/admin/keys/{keyId}/rotate", null)) await rotateRevoked.AssertProblemAsync(409);

        // The listed key says when and by whom it was revoked.
        var listed = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/keys")).GetProperty("keys").EnumerateArray()
            .Single(k => k.GetProperty("keyId").GetString() == keyId);
        Assert.Equal("dev-admin", listed.GetProperty("revokedBy").GetString());
        Assert.Equal("runtime", listed.GetProperty("source").GetString());

        // Its history: made, rotated, revoked, each by the admin.
        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/audit?subjectType=key&subjectId={keyId}"))
            .GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(["key-revoked", "key-rotated", "key-created"], history.Select(e => e.GetProperty("action").GetString()));
        Assert.All(history, e => Assert.Equal("dev-admin", e.GetProperty("actor").GetString()));
        Assert.Equal("reporter", history[2].GetProperty("details").GetProperty("role").GetString());
    }

    [Fact]
    public async Task Unit_changes_are_kept_with_who_made_them_an_admin_key_made_at_run_time_included()
    {
        using var admin = api.Admin;
        var (_, secret, _) = await CreateAsync(admin, """{"client":"bdbp-lai-chau-ops","role":"admin"}""");
        using var ops = api.Client(secret);

        using (var created = await ops.PostJsonAsync("/api/v1/units", """{"unitId":"xa-audit-1","name":"Xã Kiểm Tra","type":"commune","parentId":"phong-tho"}"""))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using (var updated = await admin.PutJsonAsync("/api/v1/units/xa-audit-1", """{"name":"Xã Kiểm Tra Mới","type":"commune","parentId":"phong-tho"}""", null))
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        // A refused change leaves no history.
        using (var duplicate = await ops.PostJsonAsync("/api/v1/units", """{"unitId":"xa-audit-1","name":"Xã","type":"commune","parentId":"phong-tho"}"""))
            await duplicate.AssertProblemAsync(409);

        var history = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?subjectType=unit&subjectId=xa-audit-1"))
            .GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(2, history.Length);
        Assert.Equal(("unit-updated", "dev-admin"), (history[0].GetProperty("action").GetString(), history[0].GetProperty("actor").GetString()));
        Assert.Equal(("unit-created", "bdbp-lai-chau-ops"), (history[1].GetProperty("action").GetString(), history[1].GetProperty("actor").GetString()));
        Assert.Equal("Xã Kiểm Tra", history[0].GetProperty("details").GetProperty("before").GetProperty("name").GetString());
        Assert.Equal("Xã Kiểm Tra Mới", history[0].GetProperty("details").GetProperty("after").GetProperty("name").GetString());

        // The whole trail, newest first, holds both kinds.
        var all = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit")).GetProperty("entries").EnumerateArray().ToArray();
        Assert.Contains(all, e => e.GetProperty("subjectType").GetString() == "key");
        Assert.Contains(all, e => e.GetProperty("subjectType").GetString() == "unit");
        Assert.True(all.Select(e => e.GetProperty("id").GetInt64()).SequenceEqual(all.Select(e => e.GetProperty("id").GetInt64()).OrderDescending()));
    }

    [Theory]
    [InlineData("/api/v1/admin/keys", "GET")]
    [InlineData("/api/v1/admin/keys", "POST")]
    [InlineData("/api/v1/admin/keys/key-0123456789abcdef/rotate", "POST")]
    [InlineData("/api/v1/admin/keys/key-0123456789abcdef", "DELETE")]
    [InlineData("/api/v1/admin/audit", "GET")]
    public async Task Without_a_key_401_and_with_a_key_that_is_not_an_admins_403(string url, string method)
    {
        foreach (var (key, status) in new[] { ((string?)null, 401), (ApiKeyOptions.DevAnalystKey, 403), (ApiKeyOptions.DevReporterKey, 403) })
        {
            using var client = api.Client(key);
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method == "POST") request.Content = HttpExtensions.JsonBody("""{"client":"x","role":"analyst"}""");
            using var response = await client.SendAsync(request);
            await response.AssertProblemAsync(status);
        }
        Assert.Equal(0, await api.ScalarAsync("select count(*) from api_keys where client = 'x'"));
    }

    [Theory]
    [InlineData("""{"client":"","role":"analyst"}""", "client")]
    [InlineData("""{"role":"analyst"}""", "client")]
    [InlineData("""{"client":"a","role":"owner"}""", "role")]
    [InlineData("""{"client":"a","role":"analyst","scope":["phong-tho"]}""", "scope")]
    [InlineData("""{"client":"a","role":"reporter","scope":["nowhere"]}""", "scope")]
    [InlineData("""{"client":"a","role":"reporter","secret":"mine"}""", "secret")]
    public async Task A_bad_new_key_gets_400_naming_the_field(string body, string field)
    {
        using var admin = api.Admin;
        using var response = await admin.PostJsonAsync("/api/v1/admin/keys", body);
        await response.AssertProblemAsync(400, field);
    }

    [Fact]
    public async Task An_unknown_key_gets_404_and_a_bad_audit_query_400()
    {
        using var admin = api.Admin;
        using (var rotate = await admin.PostAsync("/api/v1/admin/keys/key-0123456789abcdef/rotate", null)) await rotate.AssertProblemAsync(404);
        using (var revoke = await admin.DeleteAsync("/api/v1/admin/keys/nowhere")) await revoke.AssertProblemAsync(404);
        using (var audit = await admin.GetAsync("/api/v1/admin/audit?subjectType=activity")) await audit.AssertProblemAsync(400, "subjectType");
        using (var limit = await admin.GetAsync("/api/v1/admin/audit?limit=0")) await limit.AssertProblemAsync(400, "limit");
    }
}

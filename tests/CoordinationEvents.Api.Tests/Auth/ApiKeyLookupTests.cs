using CoordinationEvents.Api.Core;

namespace CoordinationEvents.Api.Tests.Auth;

/// <summary>The key lookup on its own: configured hashes in either case match, malformed ones match nothing.</summary>
public sealed class ApiKeyLookupTests
{
    static ApiKeyOptions With(params ApiKeyConfig[] keys)
    {
        var options = new ApiKeyOptions();
        options.Keys.AddRange(keys);
        return options;
    }

    [Fact]
    public void A_key_is_found_by_its_hash_written_in_either_case()
    {
        var options = With(
            new ApiKeyConfig { Client = "lower", Role = Roles.Reporter, KeySha256 = ApiKeyOptions.Hash("key-one") },
            new ApiKeyConfig { Client = "upper", Role = Roles.Analyst, KeySha256 = ApiKeyOptions.Hash("key-two").ToUpperInvariant() });

        Assert.Equal("lower", options.Find("key-one")?.Client);
        Assert.Equal("upper", options.Find("key-two")?.Client);
        Assert.Null(options.Find("key-three"));
        Assert.Null(options.Find("KEY-ONE"));
    }

    [Fact]
    public void A_malformed_configured_hash_matches_nothing_and_breaks_nothing()
    {
        var options = With(
            new ApiKeyConfig { Client = "short", Role = Roles.Admin, KeySha256 = "abc" },
            new ApiKeyConfig { Client = "not-hex", Role = Roles.Admin, KeySha256 = new string('z', 64) },
            new ApiKeyConfig { Client = "good", Role = Roles.Reporter, KeySha256 = ApiKeyOptions.Hash("khóa-đúng") });

        Assert.Null(options.Find("abc"));
        Assert.Equal("good", options.Find("khóa-đúng")?.Client);
    }
}

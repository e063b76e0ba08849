using System.Security.Cryptography;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Contracts.V1;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Keys;

/// <summary>
/// The Keys feature's wiring: the table of keys made at run time (read by <see cref="KeyDirectory"/> for
/// authentication), and what its use cases share. Only a key's SHA-256 is stored; a revoked key keeps its row (its
/// history), with <c>revoked_at</c> set. Keys in configuration (<see cref="ApiKeyOptions"/>) are not in this table.
/// </summary>
public static class KeysFeature
{
    public static IServiceCollection AddKeys(this IServiceCollection services)
    {
        services.AddSingleton<IValidator<KeyRequest>, KeyRequestValidator>();
        return services;
    }

    public static void ConfigureStore(StoreOptions options) => options.Storage.ExtendedSchemaObjects.Add(Table());

    public static Table Table()
    {
        var t = new Table(KeyDirectory.TableName);
        t.AddColumn("key_id", "text").AsPrimaryKey();
        t.AddColumn("client", "text").NotNull();
        t.AddColumn("role", "text").NotNull();
        t.AddColumn("scope", "text[]").NotNull();
        t.AddColumn("key_sha256", "text").NotNull();
        t.AddColumn("created_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.AddColumn("created_by", "text").NotNull();
        t.AddColumn("rotated_at", "timestamptz");
        t.AddColumn("revoked_at", "timestamptz");
        t.AddColumn("revoked_by", "text");
        t.Indexes.Add(new IndexDefinition("api_keys_sha256") { Columns = ["key_sha256"], IsUnique = true });
        return t;
    }

    public const string Runtime = "runtime";
    public const string Configuration = "configuration";

    /// <summary>A new secret: 32 random bytes, URL-safe Base64, behind a prefix that says what it is.</summary>
    public static string NewSecret() => "ce_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string NewKeyId() => "key-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public const string Columns = "key_id, client, role, scope, created_at, created_by, rotated_at, revoked_at, revoked_by";

    public static KeyResponse Read(NpgsqlDataReader r)
    {
        DateTimeOffset? Time(int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);
        return new KeyResponse(r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<string[]>(3), Runtime,
            Time(4), r.GetString(5), Time(6), Time(7), r.IsDBNull(8) ? null : r.GetString(8));
    }

    /// <summary>The stored key <paramref name="keyId"/>, revoked or not, or null.</summary>
    public static async Task<KeyResponse?> FindAsync(NpgsqlConnection connection, string keyId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select {Columns} from {KeyDirectory.TableName} where key_id = $1", connection);
        cmd.Parameters.AddWithValue(keyId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public static ProblemHttpResult NotFound(string keyId) =>
        TypedResults.Problem($"There is no API key '{keyId}' made at run time.", statusCode: 404, title: "Not found");

    public static string Location(string keyId) => $"/api/v1/admin/keys/{keyId}";
}

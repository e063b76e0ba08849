using System.Text.Json;
using Weasel.Postgresql.Tables;

namespace CoordinationEvents.Api.Core;

/// <summary>
/// Who changed keys and units, and how: one row per change, written in the same transaction as the change (a change
/// without its row, or a row without its change, cannot be). Features write it (Keys, Units); admins read it through
/// <c>GET /api/v1/admin/audit</c>. A table rather than event streams: the changes are rows of tables already (units,
/// api_keys), and their history must not wake the statistics' daemon nor take numbers from the activities' event sequence.
/// </summary>
public static class AuditTrail
{
    public const string TableName = "audit_log";

    public static class Subjects
    {
        public const string Key = "key";
        public const string Unit = "unit";
    }

    public static class Actions
    {
        public const string KeyCreated = "key-created";
        public const string KeyRotated = "key-rotated";
        public const string KeyRevoked = "key-revoked";
        public const string UnitCreated = "unit-created";
        public const string UnitUpdated = "unit-updated";
    }

    /// <summary>The table, created and upgraded by Marten (Weasel) with the rest of the schema.</summary>
    public static Table Table()
    {
        var t = new Table(TableName);
        t.AddColumn("id", "bigint").AsPrimaryKey().BigAutoIncrement();
        t.AddColumn("at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        t.AddColumn("actor", "text").NotNull();
        t.AddColumn("action", "text").NotNull();
        t.AddColumn("subject_type", "text").NotNull();
        t.AddColumn("subject_id", "text").NotNull();
        t.AddColumn("details", "jsonb").NotNull();
        t.Indexes.Add(new IndexDefinition("audit_log_subject") { Columns = ["subject_type", "subject_id", "id"] });
        return t;
    }

    /// <summary>The insert of one row: $1 the actor (the caller's client name), $2 the action, $3 the subject's id, $4 the details (JSON).</summary>
    public static string InsertSql(string subjectType) =>
        $"insert into {TableName} (actor, action, subject_type, subject_id, details) values ($1, $2, '{subjectType}', $3, $4::jsonb)";

    /// <summary>The same insert with Marten's positional placeholders, for <c>QueueSqlCommand</c> in a session's transaction.</summary>
    public static string QueuedInsertSql(string subjectType) =>
        $"insert into {TableName} (actor, action, subject_type, subject_id, details) values (?, ?, '{subjectType}', ?, ?::jsonb)";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Details(object details) => JsonSerializer.Serialize(details, Json);
}

using System.Text.Json;
using CoordinationEvents.Api.Core;
using CoordinationEvents.Api.Activities;

namespace CoordinationEvents.Api.Tests.Activities;

/// <summary>Given past events, when a command is decided, then these events (or this error): no database, no clock.</summary>
sealed class Spec
{
    readonly List<ActivityEvent> given = [];
    ActivityCommand? when;

    public static Spec Given(params ActivityEvent[] events)
    {
        var spec = new Spec();
        spec.given.AddRange(events);
        return spec;
    }

    public Spec When(ActivityCommand command)
    {
        when = command;
        return this;
    }

    ActivityEvent[] Decide() => Activity.Decide(when!, Activity.Fold(given));

    public void Then(params ActivityEvent[] expected) => Assert.Equal(expected, Decide());

    public T ThenThrows<T>() where T : Exception => Assert.Throws<T>(() => Decide());
}

public sealed class ActivityDecisionTests
{
    static readonly Guid Id = Guid.Parse("01a20000-0000-7000-8000-000000000001");
    static readonly DateTimeOffset Monday = new(2024, 3, 4, 1, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset Tuesday = Monday.AddDays(1);

    static ActivityContent Content(int participants, string externalId = "so-tuan-tra-001") => new(
        externalId, "patrol", "don-ma-lu-thang", [], new DateOnly(2024, 3, 2), null, null, "Tuần tra song phương mốc 79",
        new SortedDictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["mode"] = JsonSerializer.SerializeToElement("bilateral"),
            ["patrolParticipants"] = JsonSerializer.SerializeToElement(participants),
            ["patrols"] = JsonSerializer.SerializeToElement(1),
        });

    static readonly ActivityRecorded Recorded = new(Id, "dev-reporter", Content(8), Monday);

    [Fact]
    public void Given_nothing_when_recorded_then_recorded() =>
        Spec.Given().When(new RecordActivity(Id, "dev-reporter", Content(8), Monday)).Then(Recorded);

    [Fact]
    public void Given_recorded_when_recorded_again_then_nothing() =>
        Spec.Given(Recorded).When(new RecordActivity(Id, "dev-reporter", Content(8), Tuesday)).Then();

    [Fact]
    public void Given_recorded_when_corrected_then_corrected() =>
        Spec.Given(Recorded).When(new CorrectActivity(Id, Content(11), Tuesday)).Then(new ActivityCorrected(Id, Content(11), Tuesday));

    [Fact]
    public void Given_recorded_when_corrected_to_the_same_content_then_nothing() =>
        Spec.Given(Recorded).When(new CorrectActivity(Id, Content(8), Tuesday)).Then();

    [Fact]
    public void Given_recorded_when_corrected_with_another_externalId_then_rejected() =>
        Assert.Equal(422, Spec.Given(Recorded).When(new CorrectActivity(Id, Content(8, "other-id"), Tuesday)).ThenThrows<ActivityRuleViolation>().Status);

    [Fact]
    public void Given_retracted_activity_when_corrected_then_rejected() =>
        Assert.Equal(409, Spec.Given(Recorded, new ActivityRetracted(Id, "trùng", Tuesday))
            .When(new CorrectActivity(Id, Content(11), Tuesday)).ThenThrows<ActivityRuleViolation>().Status);

    [Fact]
    public void Given_recorded_when_retracted_then_retracted() =>
        Spec.Given(Recorded).When(new RetractActivity(Id, "trùng", Tuesday)).Then(new ActivityRetracted(Id, "trùng", Tuesday));

    [Fact]
    public void Given_retracted_when_retracted_again_then_nothing() =>
        Spec.Given(Recorded, new ActivityRetracted(Id, "trùng", Tuesday)).When(new RetractActivity(Id, "lần nữa", Tuesday)).Then();

    [Fact]
    public void Given_nothing_when_corrected_or_retracted_then_not_found()
    {
        Spec.Given().When(new CorrectActivity(Id, Content(8), Tuesday)).ThenThrows<ActivityNotFoundException>();
        Spec.Given().When(new RetractActivity(Id, "x", Tuesday)).ThenThrows<ActivityNotFoundException>();
    }

    [Fact]
    public void State_is_the_fold_of_the_events()
    {
        var state = Activity.Fold([Recorded, new ActivityCorrected(Id, Content(11), Tuesday), new ActivityRetracted(Id, "trùng", Tuesday)]);
        Assert.Equal((3, true, "trùng", "dev-reporter"), (state.Version, state.Retracted, state.RetractionReason, state.SourceSystem));
        Assert.Equal(11, state.Content!.Metric("patrolParticipants"));
    }
}

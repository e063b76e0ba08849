namespace CoordinationEvents.Demo;

/// <summary>
/// What a district's records add up to over 2019–2024 once corrections and retractions are applied. For
/// Phong Thổ these are the figures of its 5-year review report (seeds/003, domain.md's worked example);
/// for the other districts they are drawn at random, of a similar size.
/// </summary>
public sealed record DemoTargets
{
    public required int Patrols { get; init; }
    public required int PatrolParticipants { get; init; }
    public required int IntrusionsDetected { get; init; }

    public required int ProsecutedCases { get; init; }
    public required int ProsecutedSubjects { get; init; }
    public required int AdministrativeCases { get; init; }
    public required int AdministrativeSubjects { get; init; }
    public required int WeaponsRecovered { get; init; }

    public required int OutreachSessions { get; init; }
    public required int OutreachAttendees { get; init; }
    public required int HouseholdsGifted { get; init; }

    public required int ProvinceTalks { get; init; }
    public required int PostTalks { get; init; }
    public required int Delegations { get; init; }

    public required int VillagePairsSigned { get; init; }
    public required int PostStationPairsSigned { get; init; }

    public required int SelfManagedCollectives { get; init; }
    public required int SelfManagedIndividuals { get; init; }
    public required decimal SelfManagedBorderKm { get; init; }
    public required int SelfManagedMarkers { get; init; }

    public required int CadresSeconded { get; init; }
    public required int PartyMembersAdmitted { get; init; }
    public required int PartyCellsEstablished { get; init; }
    public required int PartyCellsConsolidated { get; init; }
    public required int MassOrganizationsConsolidated { get; init; }
    public required int MilitiaTrained { get; init; }
    public required int HouseholdsAssisted { get; init; }

    public required int HousesBuilt { get; init; }
    public required int CivilWorks { get; init; }
    public required int ClassroomsBuilt { get; init; }
    public required int ChildrenSponsored { get; init; }
    public required int LivestockGiven { get; init; }
    public required int Workdays { get; init; }

    public required int ProvinceCommendedCollectives { get; init; }
    public required int ProvinceCommendedIndividuals { get; init; }
    public required int DistrictCommendedCollectives { get; init; }
    public required int DistrictCommendedIndividuals { get; init; }
    public required int UnitCommendedCollectives { get; init; }
    public required int UnitCommendedIndividuals { get; init; }

    /// <summary>Phong Thổ 2019–2024 as 003 reports it; footnote 7 and 8 and the commendations paragraph for the rest.</summary>
    public static DemoTargets PhongTho003 { get; } = new()
    {
        Patrols = 1_236,
        PatrolParticipants = 7_920,
        IntrusionsDetected = 280,
        ProsecutedCases = 74,
        ProsecutedSubjects = 78,
        AdministrativeCases = 82,
        AdministrativeSubjects = 702,
        WeaponsRecovered = 270,
        OutreachSessions = 1_244,
        OutreachAttendees = 69_750,
        HouseholdsGifted = 3_000,
        ProvinceTalks = 26,
        PostTalks = 109,
        Delegations = 32,
        VillagePairsSigned = 4,
        PostStationPairsSigned = 3,
        SelfManagedCollectives = 63,
        SelfManagedIndividuals = 460,
        SelfManagedBorderKm = 97.229m,
        SelfManagedMarkers = 27,
        CadresSeconded = 12,
        PartyMembersAdmitted = 484,
        PartyCellsEstablished = 5,
        PartyCellsConsolidated = 31,
        MassOrganizationsConsolidated = 90,
        MilitiaTrained = 5_148,
        HouseholdsAssisted = 600,
        HousesBuilt = 74,
        CivilWorks = 21,
        ClassroomsBuilt = 420,
        ChildrenSponsored = 131,
        LivestockGiven = 150,
        Workdays = 24_000,
        ProvinceCommendedCollectives = 3,
        ProvinceCommendedIndividuals = 5,
        DistrictCommendedCollectives = 15,
        DistrictCommendedIndividuals = 30,
        UnitCommendedCollectives = 92,
        UnitCommendedIndividuals = 325,
    };

    /// <summary>Figures for a smaller district, drawn from <paramref name="random"/>.</summary>
    public static DemoTargets Random(Random random, int communes)
    {
        int Between(int min, int max) => random.Next(min, max + 1);
        return new DemoTargets
        {
            Patrols = Between(500, 800),
            PatrolParticipants = Between(3_500, 5_000),
            IntrusionsDetected = Between(60, 200),
            ProsecutedCases = Between(20, 50),
            ProsecutedSubjects = Between(55, 70),
            AdministrativeCases = Between(30, 60),
            AdministrativeSubjects = Between(150, 400),
            WeaponsRecovered = Between(60, 180),
            OutreachSessions = Between(500, 800),
            OutreachAttendees = Between(20_000, 40_000),
            HouseholdsGifted = Between(500, 1_500),
            ProvinceTalks = Between(6, 15),
            PostTalks = Between(30, 70),
            Delegations = Between(8, 20),
            VillagePairsSigned = Between(1, 3),
            PostStationPairsSigned = Between(1, 2),
            SelfManagedCollectives = Between(15, 30),
            SelfManagedIndividuals = Between(120, 250),
            SelfManagedBorderKm = Between(30_000, 80_000) / 1000m,
            SelfManagedMarkers = Between(8, 20),
            CadresSeconded = communes,
            PartyMembersAdmitted = Between(120, 260),
            PartyCellsEstablished = Between(1, 4),
            PartyCellsConsolidated = Between(8, 20),
            MassOrganizationsConsolidated = Between(20, 45),
            MilitiaTrained = Between(1_500, 3_000),
            HouseholdsAssisted = Between(150, 350),
            HousesBuilt = Between(15, 40),
            CivilWorks = Between(5, 12),
            ClassroomsBuilt = Between(80, 200),
            ChildrenSponsored = Between(30, 70),
            LivestockGiven = Between(40, 100),
            Workdays = Between(6_000, 12_000),
            ProvinceCommendedCollectives = Between(1, 3),
            ProvinceCommendedIndividuals = Between(2, 5),
            DistrictCommendedCollectives = Between(5, 10),
            DistrictCommendedIndividuals = Between(10, 20),
            UnitCommendedCollectives = Between(20, 40),
            UnitCommendedIndividuals = Between(60, 120),
        };
    }
}

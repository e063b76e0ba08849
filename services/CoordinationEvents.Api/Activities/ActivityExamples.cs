namespace CoordinationEvents.Api.Activities;

/// <summary>
/// One valid, realistic request body per kind, for Swagger UI and for tests. Units come from
/// the seeded unit tree (Units/UnitSeed); dates lie in 2023–2024; every example passes validation.
/// </summary>
public static class ActivityExamples
{
    public static readonly IReadOnlyDictionary<string, string> ByKind = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["patrol"] = """
            {
              "externalId": "mlt-2024-tt-0412",
              "kind": "patrol",
              "unitId": "don-ma-lu-thang",
              "partnerUnitIds": ["huoi-luong"],
              "occurredOn": "2024-04-12",
              "location": { "communeId": "huoi-luong", "placeName": "Khu vực cửa khẩu Ma Lù Thàng", "markers": ["79", "80"] },
              "summary": "Phối hợp với dân quân xã Huổi Luông tuần tra đường biên, kiểm tra mốc 79, 80; phát hiện 2 người nước ngoài vào khai thác lâm sản, đã giải thích và yêu cầu quay về.",
              "details": { "mode": "joint", "patrols": 1, "patrolParticipants": 8, "markersInspected": 2, "intrusionsDetected": 2, "distanceKm": 12.5 }
            }
            """,
        ["meeting"] = """
            {
              "externalId": "mlt-2024-hd-0307",
              "kind": "meeting",
              "unitId": "don-ma-lu-thang",
              "partnerUnitIds": ["phong-tho"],
              "occurredOn": "2024-03-07",
              "location": { "communeId": "huoi-luong", "placeName": "Nhà hội đàm cửa khẩu Ma Lù Thàng" },
              "summary": "Hội đàm định kỳ quý I với Trạm Kiểm soát biên phòng Kim Thủy Hà, trao đổi tình hình quản lý biên giới và phối hợp ngăn chặn xuất nhập cảnh trái phép.",
              "details": { "format": "talks", "level": "post", "meetings": 1, "meetingAttendees": 14, "delegations": 1, "counterpart": "Trạm Kiểm soát biên phòng Kim Thủy Hà (Trung Quốc)" }
            }
            """,
        ["twinning"] = """
            {
              "externalId": "mlt-2023-kn-1120",
              "kind": "twinning",
              "unitId": "don-ma-lu-thang",
              "partnerUnitIds": ["huoi-luong", "phong-tho"],
              "occurredOn": "2023-11-20",
              "location": { "communeId": "huoi-luong" },
              "summary": "Lễ ký kết kết nghĩa giữa Đồn Biên phòng Ma Lù Thàng và Trạm Kiểm soát biên phòng Kim Thủy Hà, cam kết xây dựng đường biên giới hòa bình, hữu nghị.",
              "details": { "pairType": "post-station", "ceremony": "signing", "pairsSigned": 1, "twinningParticipants": 40, "domesticParty": "Đồn Biên phòng Ma Lù Thàng", "foreignParty": "Trạm Kiểm soát biên phòng Kim Thủy Hà (Trung Quốc)" }
            }
            """,
        ["crime-bust"] = """
            {
              "externalId": "sll-2024-mt-0521",
              "kind": "crime-bust",
              "unitId": "don-si-lo-lau",
              "partnerUnitIds": ["si-lo-lau"],
              "occurredOn": "2024-05-21",
              "location": { "communeId": "si-lo-lau", "placeName": "Đường mòn bản Sì Choang" },
              "summary": "Bắt quả tang 2 đối tượng vận chuyển trái phép 350,5 gam heroin qua biên giới; chuyển hồ sơ khởi tố vụ án.",
              "details": { "category": "drugs", "outcome": "prosecuted", "cases": 1, "subjects": 2, "drugsGrams": 350.5, "goodsValueVnd": 0 }
            }
            """,
        ["weapons-recovery"] = """
            {
              "externalId": "dsn-2023-vk-0815",
              "kind": "weapons-recovery",
              "unitId": "don-dao-san",
              "partnerUnitIds": ["dao-san"],
              "occurredOn": "2023-08-15",
              "endsOn": "2023-08-31",
              "location": { "communeId": "dao-san" },
              "summary": "Đợt vận động nhân dân xã Dào San giao nộp vũ khí, vật liệu nổ, công cụ hỗ trợ: thu hồi 3 khẩu súng kíp, 1,2 kg thuốc nổ và 45 viên đạn.",
              "details": { "weaponsRecovered": 3, "explosivesKg": 1.2, "ammunitionRounds": 45 }
            }
            """,
        ["outreach"] = """
            {
              "externalId": "vmc-2024-tt-0610",
              "kind": "outreach",
              "unitId": "don-vang-ma-chai",
              "partnerUnitIds": ["vang-ma-chai"],
              "occurredOn": "2024-06-10",
              "location": { "communeId": "vang-ma-chai", "placeName": "Nhà văn hóa bản Sin Chải" },
              "summary": "Tuyên truyền Luật Biên phòng Việt Nam và Hiệp định về quy chế quản lý biên giới cho bà con bản Sin Chải; tặng cờ Tổ quốc và ảnh Bác Hồ cho các hộ gia đình.",
              "details": { "channel": "meeting", "outreachSessions": 1, "outreachAttendees": 120, "householdsGifted": 30 }
            }
            """,
        ["political-base"] = """
            {
              "externalId": "hl-2023-cs-0930",
              "kind": "political-base",
              "unitId": "don-huoi-luong",
              "partnerUnitIds": ["huoi-luong", "phong-tho"],
              "occurredOn": "2023-09-30",
              "summary": "Tăng cường cán bộ đồn về tham gia cấp ủy xã Huổi Luông; phối hợp kết nạp đảng viên mới, củng cố chi bộ bản và huấn luyện dân quân.",
              "details": { "cadresSeconded": 2, "partyMembersAdmitted": 5, "partyCellsEstablished": 1, "partyCellsConsolidated": 3, "massOrganizationsConsolidated": 4, "militiaTrained": 60, "householdsAssisted": 12 }
            }
            """,
        ["welfare"] = """
            {
              "externalId": "mlt-2023-asxh-1205",
              "kind": "welfare",
              "unitId": "don-ma-lu-thang",
              "partnerUnitIds": ["ma-ly-pho"],
              "occurredOn": "2023-12-05",
              "location": { "communeId": "ma-ly-pho" },
              "summary": "Bàn giao 2 nhà đại đoàn kết cho hộ nghèo xã Ma Ly Pho; nhận đỡ đầu học sinh nghèo theo chương trình \"Nâng bước em tới trường\".",
              "details": { "programme": "Mái ấm cho đồng bào nghèo nơi biên giới", "housesBuilt": 2, "childrenSponsored": 3, "supportValueVnd": 120000000, "workdays": 150 }
            }
            """,
        ["self-management"] = """
            {
              "externalId": "mlt-2024-tq-0630",
              "kind": "self-management",
              "unitId": "don-ma-lu-thang",
              "occurredOn": "2024-06-30",
              "summary": "Số liệu phong trào tự quản đường biên, cột mốc và an ninh trật tự bản, xã biên giới trên địa bàn đồn tính đến 30/6/2024.",
              "details": { "selfManagedCollectives": 12, "selfManagedIndividuals": 85, "selfManagedBorderKm": 18.35, "selfManagedMarkers": 6 }
            }
            """,
        ["rescue"] = """
            {
              "externalId": "vmc-2023-cn-0808",
              "kind": "rescue",
              "unitId": "don-vang-ma-chai",
              "partnerUnitIds": ["vang-ma-chai", "phong-tho"],
              "occurredOn": "2023-08-08",
              "endsOn": "2023-08-10",
              "location": { "communeId": "vang-ma-chai", "placeName": "Bản Phìn Hồ" },
              "summary": "Sạt lở đất sau mưa lớn; huy động cán bộ, chiến sĩ cùng dân quân sơ tán người dân, giúp di dời tài sản và khắc phục hậu quả.",
              "details": { "hazard": "landslide", "rescueOperations": 1, "rescuePersonnel": 25, "peopleRescued": 3, "householdsHelped": 7 }
            }
            """,
        ["border-day"] = """
            {
              "externalId": "pt-2024-nbp-0303",
              "kind": "border-day",
              "unitId": "phong-tho",
              "partnerUnitIds": ["don-si-lo-lau", "si-lo-lau"],
              "occurredOn": "2024-03-03",
              "location": { "communeId": "si-lo-lau", "placeName": "Sân trung tâm xã Sì Lở Lầu" },
              "summary": "Ngày hội Biên phòng toàn dân năm 2024 tại xã Sì Lở Lầu: văn nghệ, thể thao, trao quà cho hộ nghèo và học sinh vùng biên.",
              "details": { "borderDayEvents": 1, "borderDayAttendees": 350, "giftsValueVnd": 25000000 }
            }
            """,
        ["commendation"] = """
            {
              "externalId": "pt-2024-kt-0115",
              "kind": "commendation",
              "unitId": "phong-tho",
              "partnerUnitIds": ["don-ma-lu-thang"],
              "occurredOn": "2024-01-15",
              "summary": "Khen thưởng tập thể và cá nhân có thành tích xuất sắc trong thực hiện Quy chế phối hợp giai đoạn 2019–2023.",
              "details": { "level": "province", "commendedCollectives": 1, "commendedIndividuals": 3, "award": "Bằng khen của Chủ tịch UBND tỉnh Lai Châu" }
            }
            """,
        ["foreign-affairs"] = """
            {
              "externalId": "mlt-2024-dn-0201",
              "kind": "foreign-affairs",
              "unitId": "don-ma-lu-thang",
              "partnerUnitIds": ["huoi-luong"],
              "occurredOn": "2024-02-01",
              "location": { "communeId": "huoi-luong", "placeName": "Cửa khẩu Ma Lù Thàng" },
              "summary": "Giao lưu văn nghệ, bóng chuyền chào Xuân Giáp Thìn với lực lượng biên phòng và nhân dân phía Trung Quốc.",
              "details": { "form": "sports-exchange", "exchanges": 1, "exchangeParticipants": 40, "counterpart": "Trạm Kiểm soát biên phòng Kim Thủy Hà (Trung Quốc)" }
            }
            """,
    };
}

/// <summary>One example body per activity kind on POST and PUT of an activity, and on the batch (Swagger UI).</summary>
public sealed class ActivityExamplesFilter : Swashbuckle.AspNetCore.SwaggerGen.IOperationFilter
{
    public void Apply(Microsoft.OpenApi.OpenApiOperation operation, Swashbuckle.AspNetCore.SwaggerGen.OperationFilterContext context)
    {
        var path = context.ApiDescription.RelativePath?.TrimEnd('/');
        var method = context.ApiDescription.HttpMethod;
        var single = (path == "api/v1/activities" && method == "POST") || (path == "api/v1/activities/{activityId}" && method == "PUT");
        var batch = path == "api/v1/activities/batch" && method == "POST";
        if (!(single || batch) || operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media)) return;

        var examples = new Dictionary<string, Microsoft.OpenApi.IOpenApiExample>();
        foreach (var (kind, json) in ActivityExamples.ByKind)
        {
            var body = System.Text.Json.Nodes.JsonNode.Parse(json)!;
            if (batch) body = new System.Text.Json.Nodes.JsonObject { ["activities"] = new System.Text.Json.Nodes.JsonArray(body) };
            examples[kind] = new Microsoft.OpenApi.OpenApiExample { Summary = KindCatalog.Get(kind).VietnameseName, Value = body };
        }
        media.Examples = examples;
    }
}

/// <summary>
/// A batch's items are read one by one (each gets its own result), so the contract type holds them as raw JSON; to
/// a client each is an activity, as the body of POST /api/v1/activities, and there are at most 1,000.
/// </summary>
public sealed class BatchItemsFilter : Swashbuckle.AspNetCore.SwaggerGen.ISchemaFilter
{
    public void Apply(Microsoft.OpenApi.IOpenApiSchema schema, Swashbuckle.AspNetCore.SwaggerGen.SchemaFilterContext context)
    {
        if (context.Type != typeof(Contracts.V1.BatchRequest) || schema.Properties?.TryGetValue("activities", out var items) != true
            || items is not Microsoft.OpenApi.OpenApiSchema activities) return;
        activities.Items = context.SchemaGenerator.GenerateSchema(typeof(Contracts.V1.ActivityRequest), context.SchemaRepository);
        activities.MaxItems = RecordActivitiesEndpoint.MaxBatch;
    }
}

using CoordinationEvents.Api;
using JasperFx;

var builder = WebApplication.CreateBuilder(args);
builder.AddCoordinationEvents();

var app = builder.Build();
app.UseCoordinationEvents();
// The JasperFx commands: `codegen`, `db-apply`, `projections` (Marten's own rebuild), `describe` …; no arguments runs the service.
return await app.RunJasperFxCommands(args);

public partial class Program;

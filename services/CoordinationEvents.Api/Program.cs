using CoordinationEvents.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddCoordinationEvents();

var app = builder.Build();
await app.MigrateAsync();
app.UseCoordinationEvents();
app.Run();

public partial class Program;

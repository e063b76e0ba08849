// JasperFx looks for command-line commands (rebuild-statistics) in assemblies that carry this attribute.
[assembly: JasperFx.JasperFxAssembly]

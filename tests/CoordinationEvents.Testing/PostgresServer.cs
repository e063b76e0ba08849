namespace CoordinationEvents.Testing;

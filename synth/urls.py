"""Staff pages of the synth app (sources, jobs, samples)."""

app_name = "synth"

urlpatterns: list = []

"""Health, projects and runs: create, resume, list, get, patch, delete, and their errors."""
import uuid

from conftest import Server


def test_health(server: Server) -> None:
    r = server.get("/health")
    assert r.status == 200
    assert r.json()["status"] == "ok"
    assert r.json()["version"]


def test_projects_create_list(server: Server) -> None:
    assert server.post("/projects", {"name": "alpha"}).status == 201
    assert server.post("/projects", {"name": "alpha"}).status == 200
    server.new_run("beta")
    names = [p["name"] for p in server.get("/projects").json()["projects"]]
    assert names == ["alpha", "beta"]
    beta = server.get("/projects").json()["projects"][1]
    assert beta["run_count"] == 1
    assert server.post("/projects", {"name": ""}).status == 400
    assert server.post("/projects", {}).status == 400


def test_run_create_get_list_patch_delete(server: Server) -> None:
    r = server.post("/runs", {"project": "p", "name": "baseline", "config": {"lr": 0.001, "layers": [1, 2]},
                              "tags": ["a", "b"]})
    assert r.status == 201
    run = r.json()
    assert run["state"] == "running" and run["exit_code"] is None and run["finished_at"] is None
    assert run["config"] == {"lr": 0.001, "layers": [1, 2]}
    assert run["tags"] == ["a", "b"]
    assert run["created_at"].endswith("Z") and len(run["created_at"]) == 27
    uuid.UUID(run["id"])
    got = server.get(f"/runs/{run['id']}").json()
    assert got["name"] == "baseline" and got["line_count"] == 0
    second = server.new_run("p")
    server.new_run("other")
    listed = server.get("/runs", project="p").json()["runs"]
    assert [x["id"] for x in listed] == [second, run["id"]]  # newest first
    r = server.request("PATCH", f"/runs/{run['id']}", {"state": "failed", "exit_code": 3})
    assert r.status == 200
    assert r.json()["state"] == "failed" and r.json()["exit_code"] == 3
    assert r.json()["finished_at"] is not None
    assert [x["id"] for x in server.get("/runs", state="failed").json()["runs"]] == [run["id"]]
    assert server.request("DELETE", f"/runs/{run['id']}").status == 204
    assert server.get(f"/runs/{run['id']}").status == 404
    assert server.request("DELETE", f"/runs/{run['id']}").status == 404


def test_client_chosen_id_resumes(server: Server) -> None:
    rid = str(uuid.uuid4())
    r1 = server.post("/runs", {"project": "p", "id": rid, "name": "first"})
    assert r1.status == 201 and r1.json()["id"] == rid
    r2 = server.post("/runs", {"project": "p", "id": rid.upper()})
    assert r2.status == 200 and r2.json()["name"] == "first"
    conflict = server.post("/runs", {"project": "elsewhere", "id": rid})
    assert conflict.status == 409
    assert conflict.json()["error"]["code"] == "conflict"


def test_run_errors(server: Server) -> None:
    missing = str(uuid.uuid4())
    r = server.get(f"/runs/{missing}")
    assert r.status == 404 and r.json()["error"]["code"] == "not_found"
    assert server.post("/runs", {"name": "no project"}).status == 400
    r = server.post("/runs", {"project": "p", "id": "not-a-uuid"})
    assert r.status == 422 and "UUID" in r.json()["error"]["message"]
    r = server.post("/runs", {"project": "p", "config": [1, 2]})
    assert r.status == 400 and "config" in r.json()["error"]["message"]
    r = server.post("/runs", {"project": "p", "tags": [1]})
    assert r.status == 400
    rid = server.new_run()
    r = server.request("PATCH", f"/runs/{rid}", {"state": "exploded"})
    assert r.status == 422 and "exploded" in r.json()["error"]["message"]
    r = server.request("PATCH", f"/runs/{rid}", {"exit_code": "three"})
    assert r.status == 400
    assert server.get(f"/runs/{rid}").json()["state"] == "running"
    r = server.request("POST", "/runs", raw=b'{"project": "p",,}')
    assert r.status == 400 and r.json()["error"]["code"] == "malformed_json"
    assert "byte 16" in r.json()["error"]["message"]
    assert server.get("/nope").status == 404
    assert server.request("PUT", "/runs").status == 405
    assert server.get("/runs", limit=5000).status == 422


def test_config_is_capped_at_write_and_left_out_of_lists(server: Server) -> None:
    big = {"blob": "x" * (64 * 1024)}
    r = server.post("/runs", {"project": "cfg", "config": big})
    assert r.status == 422 and "config" in r.json()["error"]["message"], r.body
    assert server.get("/runs", project="cfg").json()["runs"] == []
    fits = {"blob": "x" * (64 * 1024 - 20)}
    r = server.post("/runs", {"project": "cfg", "config": fits})
    assert r.status == 201, r.body
    rid = r.json()["id"]
    assert server.get(f"/runs/{rid}").json()["config"] == fits
    listed = server.get("/runs", project="cfg").json()["runs"]
    assert [x["id"] for x in listed] == [rid] and "config" not in listed[0]

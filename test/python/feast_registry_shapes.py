"""Reads Feast's registry REST answers from a server and parses every object into Feast's
own protobuf classes (ParseDict refuses unknown fields and wrong types), as Feast's REST
server builds them: prints, per kind, the names parsed, as JSON.

    python feast_registry_shapes.py <server url> <project>
"""
import json
import sys
import urllib.request

from google.protobuf.json_format import ParseDict
from feast.protos.feast.core.DataSource_pb2 import DataSource
from feast.protos.feast.core.Entity_pb2 import Entity
from feast.protos.feast.core.FeatureService_pb2 import FeatureService
from feast.protos.feast.core.FeatureView_pb2 import FeatureView
from feast.protos.feast.core.OnDemandFeatureView_pb2 import OnDemandFeatureView
from feast.protos.feast.core.Project_pb2 import Project

url, project = sys.argv[1], sys.argv[2]


def get(path):
    with urllib.request.urlopen(f"{url}/api/v1/{path}") as r:
        return json.load(r)


def parse(obj, cls):
    obj = {k: v for k, v in obj.items() if k not in ("type", "project", "relationships", "dataSources")}
    return ParseDict(obj, cls())


out = {}
q = f"?project={project}&include_relationships=true"
out["projects"] = [parse(p, Project).spec.name for p in get("projects")["projects"]]
out["entities"] = [parse(e, Entity).spec.name for e in get(f"entities{q}")["entities"]]
out["dataSources"] = [ParseDict(d, DataSource()).name for d in get(f"data_sources{q}")["dataSources"]]
views = get(f"feature_views{q}")["featureViews"]
out["featureViews"] = [parse(v, FeatureView).spec.name for v in views if v["type"] == "featureView"]
out["onDemandFeatureViews"] = [parse(v, OnDemandFeatureView).spec.name for v in views if v["type"] == "onDemandFeatureView"]
out["featureServices"] = [parse(s, FeatureService).spec.name for s in get(f"feature_services{q}")["featureServices"]]
print(json.dumps(out))

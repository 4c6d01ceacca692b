// Every free-text field the metadata store keeps comes back byte for byte
// when it holds SQL metacharacters, placeholders, quotes, backslashes, line
// breaks and non-ASCII text (values are bound, never spliced into SQL); names,
// which are restricted, refuse them and store nothing.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/metadata_store.h"
#include "store_backend.h"

namespace wharf::store {
namespace {

const std::vector<std::string>& HostileTexts() {
  static const std::vector<std::string> texts = {
      "x'); DROP TABLE tasks; --",
      "\" OR \"1\"=\"1",
      "'; DELETE FROM model_versions WHERE ''='",
      "?1 ?2 $1 $2 :name @p %s %d {}",
      "back\\slash \\' \\\" \\x00",
      "line one\nline two\r\ntab\there",
      "/* comment */ SELECT pg_sleep(10); -- ",
      "ünïcødé — 雪 🍷",
  };
  return texts;
}

class MetadataHostileTextTest : public MetadataBackendTest {};
WHARF_INSTANTIATE_STORE_BACKENDS(MetadataHostileTextTest);

TEST_P(MetadataHostileTextTest, TaskDefinitionsAndTasksKeepEveryTextField) {
  int n = 0;
  for (const std::string& text : HostileTexts()) {
    SCOPED_TRACE(text);
    const std::string name = "def-" + std::to_string(++n);
    auto def = store_->RegisterDefinition(name, text);
    ASSERT_TRUE(def.ok()) << def.status().ToString();
    EXPECT_EQ(store_->GetDefinition(name, std::nullopt)->spec_json, text);

    TaskRecord task{.id = NewTaskId(), .definition = name, .revision = 1, .spec_json = text, .group_id = text};
    ASSERT_TRUE(store_->CreateTasks({&task, 1}).ok());
    auto moved = store_->TransitionTask(task.id, TaskState::kPending,
                                        {.state = TaskState::kFailed, .handle = text, .reason = text});
    ASSERT_TRUE(moved.ok() && *moved) << moved.status().ToString();
    auto got = store_->GetTask(task.id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->spec_json, text);
    EXPECT_EQ(got->group_id, text);
    EXPECT_EQ(got->handle, text);
    EXPECT_EQ(got->reason, text);
    // A filter holding the text matches exactly its own task.
    auto listed = store_->ListTasks({.group_id = text});
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().id, task.id);
  }
  EXPECT_EQ(store_->ListDefinitions(false)->size(), HostileTexts().size());
}

TEST_P(MetadataHostileTextTest, ModelVersionsEndpointsAndEventsKeepEveryTextField) {
  for (const std::string& text : HostileTexts()) {
    SCOPED_TRACE(text);
    auto version = store_->RegisterModelVersion("wine", text, text, text);
    ASSERT_TRUE(version.ok()) << version.status().ToString();
    auto model = store_->GetModelVersion("wine", version->version);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->modelfile_path, text);
    EXPECT_EQ(model->metrics_json, text);
    EXPECT_EQ(model->lineage_json, text);

    auto revision = store_->AppendEndpointRevision("wine-ep", text, text, text);
    ASSERT_TRUE(revision.ok()) << revision.status().ToString();
    auto latest = store_->GetEndpointRevision("wine-ep", std::nullopt);
    ASSERT_TRUE(latest.ok());
    EXPECT_EQ(latest->spec_json, text);
    EXPECT_EQ(latest->resolved_json, text);
    EXPECT_EQ(latest->reason, text);

    auto event = store_->AppendEndpointEvent({.endpoint = "wine-ep", .kind = text, .message = text, .details_json = text});
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    auto events = store_->ListEndpointEvents("wine-ep", event->seq - 1, 10);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ(events->front().kind, text);
    EXPECT_EQ(events->front().message, text);
    EXPECT_EQ(events->front().details_json, text);
  }
  EXPECT_EQ(store_->ListModelVersions("wine")->size(), HostileTexts().size());
  EXPECT_EQ(store_->ListEndpointRevisions("wine-ep")->size(), HostileTexts().size());
}

TEST_P(MetadataHostileTextTest, SecretsAndTheirAuditKeepEveryTextField) {
  for (const std::string& text : HostileTexts()) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(store_->PutSecret("token", text).ok());
    EXPECT_EQ(store_->GetSecret("token")->sealed, text);
    ASSERT_TRUE(store_->AppendSecretAccess({.name = "token", .action = text, .actor = text, .version = 1}).ok());
    auto audit = store_->ListSecretAccesses("token", 1);
    ASSERT_TRUE(audit.ok());
    ASSERT_EQ(audit->size(), 1u);
    EXPECT_EQ(audit->front().action, text);
    EXPECT_EQ(audit->front().actor, text);
  }
}

TEST_P(MetadataHostileTextTest, NamesWithMetacharactersAreRefusedAndStoreNothing) {
  for (const std::string& text : HostileTexts()) {
    SCOPED_TRACE(text);
    EXPECT_EQ(store_->RegisterDefinition(text, "{}").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->RegisterModelVersion(text, "m", "{}", "{}").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->AppendEndpointRevision(text, "{}", "{}", "apply").status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->PutService({.name = text, .definition = "d", .desired = 1}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->PutSecret(text, "v").status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(store_->ListDefinitions(true)->empty());
  EXPECT_TRUE(store_->ListModels()->empty());
  EXPECT_TRUE(store_->ListEndpoints(true)->empty());
  EXPECT_TRUE(store_->ListServices(true)->empty());
  EXPECT_TRUE(store_->ListSecrets()->empty());
}

}  // namespace
}  // namespace wharf::store
